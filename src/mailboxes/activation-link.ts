import type { AppContext } from '../app/context.js';
import { issueCode } from '../codes/one-time-codes.js';
import type { Tx } from '../flows/kernel/types.js';

export const MAILBOX_ACTIVATION = 'mailbox_activation';

/**
 * Issues a one-time activation link for the mailbox of `accountId` inside `tx` (an earlier link of
 * the same account stops working). The token is `<account id>.<random code>`; only the code's
 * HMAC is stored. Returns the absolute link, shown only in the email that carries it.
 */
export async function issueActivationLink(ctx: AppContext, tx: Tx, accountId: string): Promise<{ url: string; hours: number }> {
  const hours = ctx.config.mailboxes.activationLinkHours;
  const { code } = await issueCode(ctx, tx, { purpose: MAILBOX_ACTIVATION, subject: accountId, ttlMs: hours * 3_600_000, format: 'token', maxAttempts: 5 });
  return { url: `${ctx.env.PUBLIC_URL}/mailbox/activate?token=${encodeURIComponent(`${accountId}.${code}`)}`, hours };
}

/** Splits a link's token into the account it is for and the code; null when malformed. */
export function parseActivationToken(token: unknown): { accountId: string; code: string } | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const dot = token.indexOf('.');
  if (dot < 1) return null;
  const accountId = token.slice(0, dot);
  const code = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]{8,80}$/.test(accountId) || !/^[A-Za-z0-9_-]{20,80}$/.test(code)) return null;
  return { accountId, code };
}
