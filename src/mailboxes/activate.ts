import { transitionAccount } from '../accounts/lifecycle.js';
import { findAccountById, toAccount } from '../accounts/repository.js';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { checkNewPassword } from '../auth/new-password.js';
import { hashPassword } from '../auth/passwords.js';
import { peekCode, verifyCode, wasUsed } from '../codes/one-time-codes.js';
import { AppError } from '../errors/app-error.js';
import type { FieldCode } from '../errors/catalog.js';
import type { StepOutcome } from '../flows/kernel/types.js';
import { revokeAccountSessions } from '../sessions/sessions.js';
import { MAILBOX_ACTIVATION, parseActivationToken } from './activation-link.js';

type Failure = Extract<StepOutcome<never>, { ok: false }>;

/** True when a link's token is one that can still be used; reading it uses nothing up. */
export async function activationLinkOpen(ctx: AppContext, token: unknown): Promise<boolean> {
  const t = parseActivationToken(token);
  return t !== null && (await peekCode(ctx, ctx.db.kysely, MAILBOX_ACTIVATION, t.accountId, t.code));
}

/**
 * True when `token` is the link that already activated its account (opened again afterwards):
 * its page then says the account is active, not that the link is invalid. Only the exact link
 * that was used, of an account that is active, qualifies.
 */
export async function activationLinkUsed(ctx: AppContext, token: unknown): Promise<boolean> {
  const t = parseActivationToken(token);
  if (!t || !(await wasUsed(ctx, ctx.db.kysely, MAILBOX_ACTIVATION, t.accountId, t.code))) return false;
  const account = await ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', t.accountId).executeTakeFirst();
  return account?.status === 'active';
}

/**
 * Sets the mailbox password through a one-time activation link: the password is checked against
 * the policy first (a weak one does not use up the link), then the link is consumed and the
 * password stored in one transaction; a pending account becomes active and other sessions end.
 * Produces `mailbox.link_invalid` (malformed, unknown, used, expired or attempt-limited link),
 * `validation.failed` (a field left empty or too long), `password.policy`, `password.mismatch`.
 */
export async function activateMailbox(
  ctx: AppContext,
  input: { token: unknown; newPassword: unknown; newPasswordConfirm: unknown },
  meta: RequestMeta,
): Promise<{ ok: true; username: string; address: string | null } | Failure> {
  const t = parseActivationToken(input.token);
  const account = t ? await findAccountById(ctx.db.kysely, t.accountId) : null;
  if (!t || !account) throw new AppError('mailbox.link_invalid');
  const password = typeof input.newPassword === 'string' ? input.newPassword : '';
  const confirm = typeof input.newPasswordConfirm === 'string' ? input.newPasswordConfirm : '';
  // Each field says what it lacks, the confirmation too (as the password forms of the flows do).
  const missing: Record<string, FieldCode> = {};
  if (password === '') missing.newPassword = 'field.required';
  else if (password.length > 1024) missing.newPassword = 'field.too_long';
  if (confirm === '') missing.newPasswordConfirm = 'field.required';
  else if (confirm.length > 1024) missing.newPasswordConfirm = 'field.too_long';
  if (Object.keys(missing).length > 0) return { ok: false, code: 'validation.failed', fields: missing };
  const weak = checkNewPassword(ctx, password, confirm, { username: account.username });
  if (weak) return weak;
  const hash = await hashPassword(password, meta.ip);
  const now = ctx.clock.now();
  const outcome = await ctx.db.kysely.transaction().execute(async (tx) => {
    const verdict = await verifyCode(ctx, tx, MAILBOX_ACTIVATION, t.accountId, t.code);
    if (verdict !== 'ok') return verdict;
    const fresh = await tx.selectFrom('accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
    let current = toAccount(fresh);
    // Suspended or ended since the link was sent (the registrar's record ceased): the link is dead.
    if (current.status !== 'pending_activation' && current.status !== 'active') return 'unavailable' as const;
    if (current.status === 'pending_activation') {
      await transitionAccount(tx, current, 'active', { actor: `account:${current.id}`, reason: 'mailbox.activation_link', at: now, meta, provisioning: ctx });
      current = { ...current, status: 'active', version: current.version + 1 };
    }
    await tx
      .updateTable('accounts')
      .set({ password_hash: hash, password_changed_at: now.toISOString(), updated_at: now.toISOString(), version: current.version + 1 })
      .where('id', '=', current.id)
      .execute();
    const ended = await revokeAccountSessions(tx, current.id, now);
    await audit(tx, now, {
      actor: `account:${current.id}`,
      action: 'mailbox.activated',
      accountId: current.id,
      personId: current.personId,
      ip: meta.ip,
      correlationId: meta.correlationId,
      details: { address: current.email, sessionsEnded: ended },
    });
    return 'ok' as const;
  });
  // A wrong or dead link: the attempt it cost is committed, nothing else changed.
  if (outcome !== 'ok') throw new AppError('mailbox.link_invalid');
  return { ok: true, username: account.username, address: account.email };
}
