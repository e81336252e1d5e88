import { canLogIn } from '../../domain/account-status.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import type { AppContext } from '../../app/context.js';
import { audit, type RequestMeta } from '../../audit/audit.js';
import { verifyCode, wasUsed } from '../../codes/one-time-codes.js';
import { AppError } from '../../errors/app-error.js';
import { isLocale } from '../../i18n/index.js';
import { maskEmail } from '../../mailboxes/resend-link.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import { emailChangedNotice } from '../registration/emails.js';
import { parseToken } from '../registration/machine.js';
import { CONFIRM_PURPOSE, type EmailChangeData } from './machine.js';

export type ConfirmOutcome = { ok: true; email: string } | { ok: false; code: 'registration.link_expired' | 'registration.link_invalid' };

/**
 * Applies a confirmed change of the registered email (the link sent to the new address, or its
 * token through the API), in one transaction with the code's consumption. The person's personal
 * email changes, and the account's email too when it was the registration address.
 * Produces `registration.link_expired`, `registration.link_invalid`, `registration.email_registered`.
 */
export async function confirmEmailChange(ctx: AppContext, token: string, meta: RequestMeta, opts: { expectFlowId?: string; completeFlow: boolean }): Promise<ConfirmOutcome> {
  const parsed = parseToken(token);
  if (!parsed || (opts.expectFlowId && parsed.subject !== opts.expectFlowId)) return { ok: false, code: 'registration.link_invalid' };
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (tx): Promise<ConfirmOutcome> => {
    const flow = await tx.selectFrom('flows').selectAll().where('id', '=', parsed.subject).where('kind', '=', 'email-change').executeTakeFirst();
    if (!flow || !flow.account_id) return { ok: false, code: 'registration.link_invalid' };
    const stored = JSON.parse(flow.data) as { d: EmailChangeData };
    // Opened again after it confirmed: the same answer, but only for the code that did it (the
    // flow id alone must not show the new address).
    if (flow.state === 'completed') {
      return (await wasUsed(ctx, tx, CONFIRM_PURPOSE, flow.id, parsed.code)) ? { ok: true, email: stored.d.newEmail ?? '' } : { ok: false, code: 'registration.link_invalid' };
    }
    if (flow.state !== 'awaiting_confirmation' || !stored.d.newEmail) return { ok: false, code: 'registration.link_invalid' };
    const res = await verifyCode(ctx, tx, CONFIRM_PURPOSE, flow.id, parsed.code);
    if (res === 'expired' || flow.expires_at <= now.toISOString()) return { ok: false, code: 'registration.link_expired' };
    if (res !== 'ok') return { ok: false, code: 'registration.link_invalid' };
    const account = await findAccountById(tx, flow.account_id);
    // An account suspended (or otherwise ended) since the link was sent keeps its address: the
    // address password recovery relies on is not changed behind a suspension.
    if (!account || !canLogIn(account.status)) return { ok: false, code: 'registration.link_invalid' };
    // Nor is one asked before the password was changed or reset: whoever asked may have been
    // someone who knew the old password, and the new address would let them reset it again.
    if (account.passwordChangedAt && account.passwordChangedAt > flow.created_at) return { ok: false, code: 'registration.link_invalid' };
    const person = account.personId ? await findPerson(tx, account.personId) : null;
    const email = stored.d.newEmail;
    const lower = email.toLowerCase();
    const at = now.toISOString();
    const accountUsesPersonal = !!account.email && (!person || person.population === 'external' || account.email.toLowerCase() === person.personalEmail?.toLowerCase());
    // The address being replaced hears of it, in the same transaction as the change.
    const previous = person?.personalEmail ?? (accountUsesPersonal ? account.email : null);
    if (accountUsesPersonal) {
      try {
        await tx.updateTable('accounts').set({ email, email_lower: lower, updated_at: at }).where('id', '=', account.id).execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw new AppError('registration.email_registered');
        throw e;
      }
    }
    if (person) await tx.updateTable('persons').set({ personal_email: email, personal_email_lower: lower, updated_at: at }).where('id', '=', person.id).execute();
    await audit(tx, now, { actor: `account:${account.id}`, action: 'account.email_changed', accountId: account.id, personId: account.personId, ip: meta.ip, correlationId: meta.correlationId });
    if (previous && previous.toLowerCase() !== lower) {
      const locale = isLocale(account.locale) ? account.locale : isLocale(flow.locale) ? flow.locale : ctx.config.institution.defaultLocale;
      await enqueueMessage(tx, now, emailChangedNotice(ctx, locale, { to: previous, name: person?.givenName ?? account.username, username: account.username, masked: maskEmail(email) }));
    }
    if (opts.completeFlow) {
      await tx
        .updateTable('flows')
        .set({ state: 'completed', version: flow.version + 1, data: JSON.stringify({ d: stored.d, r: { email } }), updated_at: at })
        .where('id', '=', flow.id)
        .where('version', '=', flow.version)
        .execute();
    }
    return { ok: true, email };
  });
}
