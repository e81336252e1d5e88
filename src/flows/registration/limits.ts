import { addressKey, reserveAttempt } from '../../auth/throttle.js';
import type { AppContext } from '../../app/context.js';
import { countIssued } from '../../codes/one-time-codes.js';
import { AppError } from '../../errors/app-error.js';
import type { Tx } from '../kernel/types.js';
import { waitPhrase } from '../../i18n/dates.js';
import type { Locale } from '../../i18n/index.js';
import { VERIFY_PURPOSE } from './records.js';

/**
 * Limits on the emails registration sends, so that nobody can make the institution's mail server
 * carry their messages to anyone, again and again. Each is checked twice: before the step (a clear
 * 429, nothing written, no password hashed) and again inside the transaction that queues the email,
 * where concurrent requests, on one instance or several, are counted atomically; a request refused
 * there rolls back whole, so nothing is sent.
 *
 * - Per client address: new registrations in an hour (`registration.registrationsPerAddressPerHour`),
 *   `registration.too_many_registrations`, with the seconds until the hour of the address's first
 *   counted registration ends. Counted in the shared throttle table under their own key, with one
 *   upsert (its row lock orders concurrent registrations from one address).
 * - Per registration: at most one email every `registration.resendIntervalSeconds`
 *   (`registration.resend_too_soon`), and `registration.emailsPerRegistration` in all, the first
 *   included (`registration.too_many_emails`). Counted from the activation links issued, read while
 *   the registration's row is locked, whichever flow asks (the registration or a refused login).
 */

const HOUR = 3_600_000;
export type EmailLimitCode = 'registration.resend_too_soon' | 'registration.too_many_emails';

export const registrationAddressKey = (ip: string | null) => `registration:${ip ? addressKey(ip) : 'unknown'}`;

/**
 * Whole seconds (at least 1) until the client address may register again, when it has used up its
 * registrations of the hour; null when it may register now (a read; see takeAddressPlace). The
 * count is kept per hour from the first registration it counted: its place frees when that
 * oldest one leaves the hour, and with it the whole count.
 */
export async function addressWait(ctx: AppContext, ip: string | null, db: Tx = ctx.db.kysely): Promise<number | null> {
  const max = ctx.config.registration.registrationsPerAddressPerHour;
  if (max === 0) return null;
  const row = await db.selectFrom('login_throttle').select(['failures', 'window_start']).where('key', '=', registrationAddressKey(ip)).executeTakeFirst();
  if (!row || row.failures < max) return null;
  // A window that began exactly an hour ago still counts (the upsert starts a new one only after).
  const left = new Date(row.window_start).getTime() + HOUR - ctx.clock.now().getTime();
  return left < 0 ? null : Math.max(1, Math.ceil(left / 1000));
}

/**
 * The refusal of a registration from an address that used up its hour: the wait in seconds for
 * programs (`params.seconds`, the API's `Retry-After`) and in words for the message (`params.wait`).
 */
export const tooManyRegistrations = (seconds: number, locale: Locale) => ({
  code: 'registration.too_many_registrations' as const,
  status: 429,
  params: { seconds, wait: waitPhrase(seconds, locale) },
});

/**
 * Takes a place for a new registration from `ip`, inside the transaction that creates it: the
 * sign-in counters' atomic upsert (a window older than an hour starts the count again). Throws
 * `registration.too_many_registrations`, with the wait, when none is left, which rolls the
 * registration back.
 */
export async function takeAddressPlace(ctx: AppContext, tx: Tx, ip: string | null, locale: Locale): Promise<void> {
  const max = ctx.config.registration.registrationsPerAddressPerHour;
  if (max === 0) return;
  const full = await reserveAttempt(tx, [[registrationAddressKey(ip), { maxFailures: max, windowMs: HOUR, lockMs: HOUR }]], ctx.clock.now());
  if (!full) return;
  const refusal = tooManyRegistrations((await addressWait(ctx, ip, tx)) ?? 1, locale);
  throw new AppError(refusal.code, { params: refusal.params, headers: { 'retry-after': String(refusal.params.seconds) } });
}

/**
 * Whether the registration of `accountId` may be sent another activation email now: null, or the
 * code to answer, with the seconds to wait when another may be sent later (`resend_too_soon`).
 */
export async function emailWait(ctx: AppContext, accountId: string, db: Tx = ctx.db.kysely): Promise<{ code: EmailLimitCode; seconds?: number } | null> {
  const r = ctx.config.registration;
  const { count, last } = await countIssued(ctx, VERIFY_PURPOSE, accountId, new Date(0), db);
  if (count >= r.emailsPerRegistration) return { code: 'registration.too_many_emails' };
  const wait = last ? resendWait(ctx, last) : 0;
  return wait > 0 ? { code: 'registration.resend_too_soon', seconds: wait } : null;
}

/** Whole seconds (at least 1) until an email sent at `last` may be followed by another; 0 when it may now. */
export function resendWait(ctx: AppContext, last: Date): number {
  const left = ctx.config.registration.resendIntervalSeconds * 1000 - (ctx.clock.now().getTime() - last.getTime());
  return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : 0;
}

/**
 * The same check inside the transaction that queues the email, with the registration's row locked
 * first (an update that changes nothing), so that concurrent resends of one registration are
 * counted one after the other. Throws the code when refused, which rolls everything back.
 */
export async function holdEmailPlace(ctx: AppContext, tx: Tx, accountId: string): Promise<void> {
  await tx
    .updateTable('registrations')
    .set((eb) => ({ email_lower: eb.ref('email_lower') }))
    .where('account_id', '=', accountId)
    .execute();
  const limited = await emailWait(ctx, accountId, tx);
  if (limited) throw new AppError(limited.code);
}
