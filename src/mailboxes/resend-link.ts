import { findPerson } from '../accounts/repository.js';
import type { Account } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AppError } from '../errors/app-error.js';
import { issueActivationLink } from './activation-link.js';
import { sendMailboxMail } from './mail.js';
import { mailboxEffectiveDate, romeDate } from './school-year.js';

/** Shows where a link went without giving the whole address away: `d***@example.net`. */
export const maskEmail = (email: string): string => {
  const at = email.indexOf('@');
  return at <= 0 ? '***' : `${email.slice(0, 1)}***${email.slice(at)}`;
};

/**
 * Recovery of mailbox credentials by the school's head or a referent: a new one-time activation
 * link (earlier links stop working) goes to the school's head (`extra.headEmail`, else the record's
 * personal address) or, for a person, to their personal address. Never a password.
 * Produces `mailbox.not_opened`, `mailbox.no_recipient`.
 */
export async function resendActivationLink(ctx: AppContext, account: Account, how: { actor: string; meta: RequestMeta }): Promise<{ sentTo: string }> {
  if (!account.email) throw new AppError('mailbox.not_opened');
  const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
  if (!person) throw new AppError('mailbox.no_recipient');
  const isSchool = person.population === 'school';
  const to = isSchool && typeof person.extra.headEmail === 'string' ? person.extra.headEmail : person.personalEmail;
  if (!to) throw new AppError('mailbox.no_recipient');
  const now = ctx.clock.now();
  const address = account.email;
  await ctx.db.kysely.transaction().execute(async (tx) => {
    const link = await issueActivationLink(ctx, tx, account.id);
    if (isSchool) {
      const schoolYear = typeof person.extra.schoolYear === 'string' ? person.extra.schoolYear : '';
      const date = mailboxEffectiveDate(schoolYear, new Date(person.createdAt)) ?? romeDate(now);
      const school = typeof person.extra.name === 'string' ? person.extra.name : person.externalId;
      await sendMailboxMail(ctx, tx, 'school', to, ctx.config.institution.defaultLocale, { school, address, url: link.url, hours: link.hours, date });
    } else {
      await sendMailboxMail(ctx, tx, 'approved', to, ctx.config.institution.defaultLocale, { name: `${person.givenName} ${person.familyName}`, address, url: link.url, hours: link.hours });
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
  });
  ctx.kickOutbox();
  return { sentTo: maskEmail(to) };
}
