import { randomUUID } from 'node:crypto';
import { transitionAccount } from '../accounts/lifecycle.js';
import { assignAddress, assignUsername } from '../accounts/mailbox.js';
import { toAccount, toPerson } from '../accounts/repository.js';
import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import { issueActivationLink } from '../mailboxes/activation-link.js';
import { linkReplacesPassword, sendMailboxMail } from '../mailboxes/mail.js';
import { mailboxEffectiveDate, romeDate } from '../mailboxes/school-year.js';

export interface SchoolMailboxesReport {
  dryRun: boolean;
  /** Schools whose mailbox was (or would be) opened, with the address given. */
  opened: Array<{ externalId: string; address: string | null; effectiveFrom: string; headNotified: boolean }>;
  /** Schools whose mailbox is not due yet (their school year starts later). */
  waiting: Array<{ externalId: string; effectiveFrom: string }>;
  /** Schools whose `schoolYear` cannot be read: nothing is done for them. */
  invalid: Array<{ externalId: string; schoolYear: string | null }>;
}

/**
 * Opens the institutional mailbox of every imported school that is open (registrar status
 * `active` or `enrolled`), has none yet and whose date has come (1 September of its school year,
 * or the import day when later: see school-year.ts). The school's account is created if the
 * import did not; the school's head (`extra.headEmail`, else the record's personal address)
 * receives a one-time activation link, never a password. Each school is one transaction, claimed
 * by a conditional update: runs may overlap or repeat safely.
 */
export const schoolMailboxesJob = {
  name: 'school-mailboxes',
  async run(ctx: AppContext, opts: { dryRun: boolean }): Promise<SchoolMailboxesReport> {
    const db = ctx.db.kysely;
    const now = ctx.clock.now();
    const report: SchoolMailboxesReport = { dryRun: opts.dryRun, opened: [], waiting: [], invalid: [] };
    const rows = await db
      .selectFrom('persons as p')
      .leftJoin('accounts as a', 'a.person_id', 'p.id')
      .selectAll('p')
      .select(['a.id as account_id', 'a.email as account_email'])
      .where('p.population', '=', 'school')
      // Only a school the ministry lists as open: not one closed, suspended or not yet confirmed
      // (its mailbox opens when a later import says it is).
      .where('p.registrar_status', 'in', ['enrolled', 'active'])
      .where('a.email', 'is', null)
      .orderBy('p.external_id')
      .execute();
    for (const row of rows) {
      const person = toPerson(row);
      const schoolYear = typeof person.extra.schoolYear === 'string' ? person.extra.schoolYear : null;
      const effectiveFrom = schoolYear ? mailboxEffectiveDate(schoolYear, new Date(person.createdAt)) : null;
      if (!effectiveFrom) {
        report.invalid.push({ externalId: person.externalId, schoolYear });
        continue;
      }
      if (romeDate(now) < effectiveFrom) {
        report.waiting.push({ externalId: person.externalId, effectiveFrom });
        continue;
      }
      const head = typeof person.extra.headEmail === 'string' ? person.extra.headEmail : person.personalEmail;
      if (opts.dryRun) {
        report.opened.push({ externalId: person.externalId, address: null, effectiveFrom, headNotified: head !== null });
        continue;
      }
      const opened = await db.transaction().execute(async (tx) => {
        // Two runs at once must not both create an account: under PostgreSQL the school's row is
        // locked for the transaction (SQLite runs one transaction at a time anyway).
        if (ctx.db.dialect === 'postgres') await tx.selectFrom('persons').select('id').where('id', '=', person.id).forUpdate().execute();
        let accountRow = await tx.selectFrom('accounts').selectAll().where('person_id', '=', person.id).executeTakeFirst();
        if (!accountRow) {
          const username = await assignUsername(ctx, tx, person);
          accountRow = {
            id: randomUUID(),
            person_id: person.id,
            username,
            username_lower: username.toLowerCase(),
            email: null,
            email_lower: null,
            status: 'pending_activation',
            password_hash: null,
            password_changed_at: null,
            federated_only: 0,
            roles: '[]',
            created_at: now.toISOString(),
            updated_at: now.toISOString(),
            version: 0,
            locale: null,
          };
          await tx.insertInto('accounts').values(accountRow).execute();
        }
        let account = toAccount(accountRow);
        if (account.email) return null;
        if (account.status === 'provisional' || account.status === 'expired') {
          await transitionAccount(tx, account, 'pending_activation', { actor: 'job:school-mailboxes', reason: 'school_mailbox.opened', at: now, provisioning: ctx });
          account = { ...account, status: 'pending_activation', version: account.version + 1 };
        }
        const address = await assignAddress(ctx, tx, person, account.username);
        if (!address) return null;
        const claimed = await tx
          .updateTable('accounts')
          .set({ email: address, email_lower: address.toLowerCase(), updated_at: now.toISOString(), version: account.version + 1 })
          .where('id', '=', account.id)
          .where('email', 'is', null)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return null;
        if (head) {
          const link = await issueActivationLink(ctx, tx, account.id);
          const school = typeof person.extra.name === 'string' ? person.extra.name : person.externalId;
          await sendMailboxMail(ctx, tx, 'school', head, ctx.config.institution.defaultLocale, { school, address, url: link.url, hours: link.hours, from: effectiveFrom, replacesPassword: linkReplacesPassword(account) });
        }
        await audit(tx, now, {
          actor: 'job:school-mailboxes',
          action: 'mailbox.school_opened',
          accountId: account.id,
          personId: person.id,
          details: { address, schoolYear, effectiveFrom, headNotified: head !== null },
        });
        return address;
      });
      if (opened) report.opened.push({ externalId: person.externalId, address: opened, effectiveFrom, headNotified: head !== null });
    }
    if (report.opened.length > 0 && !opts.dryRun) ctx.kickOutbox();
    return report;
  },
};
