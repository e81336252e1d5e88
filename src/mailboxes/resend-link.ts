import { assignAddress } from '../accounts/mailbox.js';
import { findPerson } from '../accounts/repository.js';
import type { Account, Person } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import type { PopulationId } from '../config/institution-schema.js';
import { AppError } from '../errors/app-error.js';
import { issueActivationLink } from './activation-link.js';
import { linkReplacesPassword, sendMailboxMail } from './mail.js';
import { mailboxEffectiveDate, romeDate } from './school-year.js';

/** Shows where a link went without giving the whole address away: `d***@example.net`. */
export const maskEmail = (email: string): string => {
  const at = email.indexOf('@');
  return at <= 0 ? '***' : `${email.slice(0, 1)}***${email.slice(at)}`;
};

/**
 * Recovery of mailbox credentials by the school's head or a referent: a new one-time activation
 * link (earlier links stop working) goes to the school's head (`extra.headEmail`, else the record's
 * personal address) or, for a person, to their personal address. Never a password. For staff
 * activated by their referent, the first link also opens the mailbox (and the link activates the
 * account). An account of a population without mailboxes has none to recover. Produces `mailbox.not_opened`, `mailbox.no_recipient`, `mailbox.not_available`.
 */
export async function resendActivationLink(ctx: AppContext, account: Account, how: { actor: string; meta: RequestMeta }): Promise<{ sentTo: string; address?: string }> {
  const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
  // Staff whose population is activated by their referent (`activation: [referent]`): the first
  // link opens the mailbox of an account still waiting for its activation.
  const opens = !account.email && account.status === 'pending_activation' && person !== null && opensByReferent(ctx, person.population);
  if (!account.email && !opens) throw new AppError('mailbox.not_opened');
  // The address of an account of a population without mailboxes (an external user's) is their
  // own: a link would call it institutional and let the helpdesk set that person's password,
  // which only its owner resets.
  if (person && !ctx.config.populations[person.population as PopulationId]?.mailbox) throw new AppError('mailbox.not_opened');
  const to = person ? linkRecipient(person) : null;
  if (!person || !to) throw new AppError('mailbox.no_recipient');
  const isSchool = person.population === 'school';
  const now = ctx.clock.now();
  const address = await ctx.db.kysely.transaction().execute(async (tx) => {
    let address = account.email;
    if (opens) {
      address = await assignAddress(ctx, tx, person, account.username);
      if (!address) throw new AppError('mailbox.not_available');
      // Two referents at once: the account row's version lets one open it.
      const res = await tx
        .updateTable('accounts')
        .set({ email: address, email_lower: address.toLowerCase(), updated_at: now.toISOString(), version: account.version + 1 })
        .where('id', '=', account.id)
        .where('version', '=', account.version)
        .where('email', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new AppError('flow.wrong_state');
      await audit(tx, now, {
        actor: how.actor,
        action: 'mailbox.opened',
        accountId: account.id,
        personId: person.id,
        ip: how.meta.ip,
        correlationId: how.meta.correlationId,
        details: { address, by: 'referent' },
      });
    }
    if (!address) throw new AppError('mailbox.not_opened');
    const link = await issueActivationLink(ctx, tx, account.id);
    if (isSchool) {
      const schoolYear = typeof person.extra.schoolYear === 'string' ? person.extra.schoolYear : '';
      const from = mailboxEffectiveDate(schoolYear, new Date(person.createdAt)) ?? romeDate(now);
      const school = typeof person.extra.name === 'string' ? person.extra.name : person.externalId;
      await sendMailboxMail(ctx, tx, 'school', to, ctx.config.institution.defaultLocale, { school, address, url: link.url, hours: link.hours, from, replacesPassword: linkReplacesPassword(account) });
    } else {
      await sendMailboxMail(ctx, tx, 'approved', to, account.locale, { name: `${person.givenName} ${person.familyName}`, address, url: link.url, hours: link.hours, replacesPassword: linkReplacesPassword(account) });
    }
    await audit(tx, now, {
      actor: how.actor,
      action: 'mailbox.link_resent',
      accountId: account.id,
      personId: person.id,
      ip: how.meta.ip,
      correlationId: how.meta.correlationId,
      details: { sentTo: maskEmail(to) },
    });
    return address;
  });
  ctx.kickOutbox();
  // The address is news only when this link opened the mailbox.
  return opens ? { sentTo: maskEmail(to), address } : { sentTo: maskEmail(to) };
}

/** Where a mailbox activation link goes: a school's head (`extra.headEmail`, else the record's personal address), or a person's personal address. */
export function linkRecipient(person: Person): string | null {
  return person.population === 'school' && typeof person.extra.headEmail === 'string' ? person.extra.headEmail : person.personalEmail;
}

/** Whether the population's accounts are activated by an IT referent (the link that opens the mailbox). */
function opensByReferent(ctx: AppContext, population: string): boolean {
  return (ctx.config.populations[population as PopulationId]?.activation ?? []).includes('referent');
}
