import type { Kysely } from 'kysely';
import { findAccountById, findPerson } from '../accounts/repository.js';
import type { Account } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import { noticeAddress, referentPageUrl, sendMailboxMail } from '../mailboxes/mail.js';
import { completeRequestFlow, requestSetAsideStatuses } from '../mailboxes/requests.js';
import { referentsOf } from '../org-units/referents.js';

/** The referents who may decide a request: nobody decides (or is reminded of) their own. */
async function decidersOf(ctx: AppContext, db: Kysely<Database>, r: { org_unit: string | null; account_id: string }): Promise<Account[]> {
  return r.org_unit ? (await referentsOf(ctx, db, r.org_unit)).filter((x) => x.id !== r.account_id) : [];
}

/** Each list holds the usernames of the requesters. */
export interface MailboxRemindersReport {
  dryRun: boolean;
  /** Requests whose referents were (or would be) reminded. */
  reminded: string[];
  /** Requests due for a reminder whose office has no referent left to remind (noted once). */
  noReferent: string[];
  /** Requests that expired (or would expire) undecided. */
  expired: string[];
}

/**
 * Reminds the referents of requests pending longer than `mailboxes.remindAfterHours` (once per
 * request), and expires those pending past `mailboxes.expireAfterDays`, telling the requester.
 * Each request is claimed by a conditional update, so runs may overlap or be repeated safely.
 */
export const mailboxRemindersJob = {
  name: 'mailbox-reminders',
  async run(ctx: AppContext, opts: { dryRun: boolean }): Promise<MailboxRemindersReport> {
    const db = ctx.db.kysely;
    const now = ctx.clock.now();
    const nowIso = now.toISOString();
    const remindBefore = new Date(now.getTime() - ctx.config.mailboxes.remindAfterHours * 3_600_000).toISOString();
    const toRemind = await db
      .selectFrom('mailbox_requests')
      .selectAll()
      .where('status', '=', 'pending')
      .where('reminded_at', 'is', null)
      .where('created_at', '<=', remindBefore)
      .where('expires_at', '>', nowIso)
      // Set aside while the account is suspended or ended: referents could not decide it.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('accounts').select('accounts.id').whereRef('accounts.id', '=', 'mailbox_requests.account_id').where('accounts.status', 'in', requestSetAsideStatuses))))
      .execute();
    const toExpire = await db.selectFrom('mailbox_requests').selectAll().where('status', '=', 'pending').where('expires_at', '<=', nowIso).execute();
    const accountIds = [...new Set([...toRemind, ...toExpire].map((r) => r.account_id))];
    const usernames = new Map<string, string>();
    for (let i = 0; i < accountIds.length; i += 500) {
      const rows = await db.selectFrom('accounts').select(['id', 'username']).where('id', 'in', accountIds.slice(i, i + 500)).execute();
      for (const a of rows) usernames.set(a.id, a.username);
    }
    const who = (r: { account_id: string }) => usernames.get(r.account_id) ?? r.account_id;
    const report: MailboxRemindersReport = { dryRun: opts.dryRun, reminded: [], noReferent: [], expired: [] };
    if (opts.dryRun) {
      for (const r of toRemind) {
        const referents = await decidersOf(ctx, db, r);
        (referents.length ? report.reminded : report.noReferent).push(who(r));
      }
      return { ...report, expired: toExpire.map(who) };
    }

    for (const r of toRemind) {
      const person = await findPerson(db, r.person_id);
      if (!person) continue;
      const outcome = await db.transaction().execute(async (tx) => {
        const claimed = await tx.updateTable('mailbox_requests').set({ reminded_at: nowIso }).where('id', '=', r.id).where('status', '=', 'pending').where('reminded_at', 'is', null).executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return null;
        const referents = await decidersOf(ctx, tx, r);
        const params = { name: `${person.givenName} ${person.familyName}`, office: r.org_unit, expiresAt: new Date(r.expires_at), url: referentPageUrl(ctx) };
        for (const ref of referents) if (ref.email) await sendMailboxMail(ctx, tx, 'reminder', ref.email, ref.locale, params);
        await audit(tx, now, {
          actor: 'job:mailbox-reminders',
          action: 'mailbox.reminder_sent',
          accountId: r.account_id,
          personId: r.person_id,
          details: { requestId: r.id, orgUnit: r.org_unit, referents: referents.map((x) => x.username) },
        });
        return referents.length ? report.reminded : report.noReferent;
      });
      outcome?.push(who(r));
    }

    for (const r of toExpire) {
      const person = await findPerson(db, r.person_id);
      const account = await findAccountById(db, r.account_id);
      const done = await db.transaction().execute(async (tx) => {
        const claimed = await tx.updateTable('mailbox_requests').set({ status: 'expired', decided_at: nowIso }).where('id', '=', r.id).where('status', '=', 'pending').executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return false;
        await completeRequestFlow(tx, r.flow_id, { address: null, status: 'expired' }, now);
        const to = person && account ? noticeAddress(person, account) : null;
        if (to && person) await sendMailboxMail(ctx, tx, 'expired', to, r.locale, { name: `${person.givenName} ${person.familyName}` });
        await audit(tx, now, {
          actor: 'job:mailbox-reminders',
          action: 'mailbox.request_expired',
          accountId: r.account_id,
          personId: r.person_id,
          details: { requestId: r.id, orgUnit: r.org_unit },
        });
        return true;
      });
      if (done) report.expired.push(who(r));
    }
    if (report.reminded.length + report.expired.length > 0) ctx.kickOutbox();
    return report;
  },
};
