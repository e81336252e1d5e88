import type { AppContext } from '../app/context.js';
import type { RequestMeta } from '../audit/audit.js';
import { audit, type AuditEntry } from '../audit/audit.js';
import { findAccountByUsername } from '../accounts/repository.js';
import type { Account } from '../accounts/types.js';
import type { StepOutcome, Tx } from '../flows/kernel/types.js';
import { translate, type Locale } from '../i18n/index.js';
import { addressKey, clearFailures, releaseAttempt, reserveAttempt, settleFailure, throttleState, type ThrottleRule } from './throttle.js';
import { verifyDummy, verifyPassword } from './passwords.js';

type Failure = Extract<StepOutcome<never>, { ok: false }>;

export const userKey = (username: string) => `user:${username.trim().toLowerCase()}`;

function rules(ctx: AppContext): { account: ThrottleRule; address: ThrottleRule } {
  const l = ctx.config.login;
  const windowMs = l.failureWindowMinutes * 60_000;
  const lockMs = l.lockMinutes * 60_000;
  return {
    account: { maxFailures: l.maxFailuresPerAccount, windowMs, lockMs },
    // Shared by everyone behind one address: only failures lock it (ThrottleRule.lockWhenFull).
    address: { maxFailures: l.maxFailuresPerAddress, windowMs, lockMs, lockWhenFull: false },
  };
}

/** How long an attempt refused because its address's checks are all in progress is told to wait. */
const BUSY_RETRY_SECONDS = 2;

// Building a DateTimeFormat costs far more than formatting with one (every flow page shows a
// time): one formatter per language and time zone, made on first use.
const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** A date and time as people read them in `locale`, in the institution's `timeZone`. */
export function formatTime(d: Date, locale: Locale, timeZone: string): string {
  const key = `${locale} ${timeZone}`;
  let f = timeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'el' ? 'el-GR' : locale === 'it' ? 'it-IT' : 'en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone });
    timeFormats.set(key, f);
  }
  return f.format(d);
}

/**
 * A locked sign-in. The message tells the time in the person's language and the institution's
 * time zone; `params`
 * also carries it for programs: `lockedUntil` (ISO 8601, UTC) and `retryAfter` (seconds, also
 * sent as the Retry-After header by the API).
 */
export function lockedFailure(until: Date, locale: Locale, now: Date, timeZone: string): Failure {
  return {
    ok: false,
    code: 'auth.account_locked',
    status: 429,
    params: { until: formatTime(until, locale, timeZone), lockedUntil: until.toISOString(), retryAfter: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)) },
  };
}

/**
 * Checks a username and password the way every password step does (login, activation, change):
 * throttled per username and per client address before any hash is computed, with the same cost
 * for unknown users as for known ones.
 *
 * `accept` decides, after a correct password, whether this account may proceed; when it may not,
 * the answer is `auth.invalid_credentials` like any other failure.
 * Produces `auth.account_locked` (429), `auth.rate_limited` (429: the address's places are all being checked), `auth.invalid_credentials`, `auth.federated_only`.
 */
export async function checkCredentials(
  ctx: AppContext,
  username: string,
  password: string,
  meta: RequestMeta,
  locale: Locale,
  opts: { accept: (a: Account) => boolean; onWrongAccept?: (a: Account) => Failure | null },
): Promise<{ ok: true; account: Account; rehash: boolean } | Failure> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  const r = rules(ctx);
  const keys: Array<[string, ThrottleRule]> = [[userKey(username), r.account], ...(meta.ip ? [[addressKey(meta.ip), r.address] as [string, ThrottleRule]] : [])];
  // The attempt takes its place before the hash, so parallel attempts cannot all get through; a
  // locked key (or one with no place left) answers at once, without a hash.
  const lockedNow: string[] = [];
  const full: string[] = [];
  const locked = await reserveAttempt(db, keys, now, lockedNow, full);
  const giveBack = async (tx: Tx) => {
    for (const [key] of keys) await releaseAttempt(tx, key);
  };
  if (!locked && full.length > 0) {
    // The address's places are all taken by attempts still being checked (many people signing
    // in at once behind one address): this one waits its turn, costing nothing and locking no one.
    await db.transaction().execute(giveBack);
    return { ok: false, code: 'auth.rate_limited', status: 429, params: { seconds: BUSY_RETRY_SECONDS } };
  }
  if (locked) {
    // Attempts arriving together can fill the window before any is checked: the one whose
    // reservation locked the account records the lock.
    if (lockedNow.includes(userKey(username))) {
      const account = await findAccountByUsername(db, username);
      if (account) await audit(db, now, signInEntry(account, meta, locked));
    }
    // A refused attempt checks no password: it is the account's to count (the helpdesk sees those
    // refused while locked), not a guess from the address, whose place goes back. Kept, the
    // refusals of one locked account filled the window of everyone behind that address.
    if (meta.ip) await db.transaction().execute((tx) => releaseAttempt(tx, addressKey(meta.ip!)));
    return lockedFailure(locked, locale, now, ctx.config.institution.timeZone);
  }

  const account = await findAccountByUsername(db, username);
  let verified = false;
  let rehash = false;
  try {
    if (account?.passwordHash) {
      ({ ok: verified, rehash } = await verifyPassword(account.passwordHash, password, meta.ip));
    } else {
      await verifyDummy(password, meta.ip);
    }
  } catch (err) {
    // No password was checked (the hash queue was full): the attempt gives its places back.
    await db.transaction().execute(giveBack);
    throw err;
  }
  if (account?.federatedOnly) return { ok: false, code: 'auth.federated_only' };

  if (!verified) {
    return {
      ok: false,
      code: 'auth.invalid_credentials',
      commit: async (tx) => {
        const settled = await settleFailure(tx, userKey(username), r.account, now);
        if (meta.ip) await settleFailure(tx, addressKey(meta.ip), r.address, now);
        // One `login.locked` per lock, from the failure that set it; the others are failures.
        if (account) await audit(tx, now, signInEntry(account, meta, settled.lockedNow ? settled.until : null));
      },
    };
  }
  if (!opts.accept(account!)) {
    // The right password for an account that may not go on (an unconfirmed registration, a
    // suspended account): not a guess, so the attempt gives its places back.
    return { ...(opts.onWrongAccept?.(account!) ?? { ok: false, code: 'auth.invalid_credentials' }), commit: giveBack };
  }
  // The right password is not a guess: its places are given back now, not with the step's
  // transaction. The step may still fail (the same form submitted twice: the second finds the
  // step done), and a place kept for each such submission would lock out the whole address.
  await db.transaction().execute(async (tx) => {
    await clearFailures(tx, userKey(username));
    if (meta.ip) await releaseAttempt(tx, addressKey(meta.ip));
  });
  return { ok: true, account: account!, rehash };
}

/**
 * What the helpdesk needs to answer "why can't I sign in?": the end of a lock of the account in
 * force (null when none), the attempts counted in the current window (while locked, also those
 * refused), and the last successful sign-in (with a password or SPID; null when never).
 */
export async function signInStateOf(ctx: AppContext, account: Account): Promise<{ lockedUntil: string | null; failedAttempts: number; lastSucceededAt: string | null }> {
  const counter = await throttleState(ctx.db.kysely, userKey(account.username), rules(ctx).account, ctx.clock.now());
  const last = await ctx.db.kysely
    .selectFrom('audit_log')
    .select('at')
    .where('account_id', '=', account.id)
    .where('action', '=', 'login.succeeded')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return { lockedUntil: counter.lockedUntil, failedAttempts: counter.failures, lastSucceededAt: last?.at ?? null };
}

/**
 * Lifts the sign-in lock of an account and forgets its failed attempts (the helpdesk, once it
 * knows who is asking), audited under who did it. A password reset does the same.
 */
export async function unlockSignIn(ctx: AppContext, account: Account, actor: string, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (tx) => {
    await clearFailures(tx, userKey(account.username));
    await audit(tx, now, { actor, action: 'login.unlocked', accountId: account.id, personId: account.personId, ip: meta.ip, correlationId: meta.correlationId, details: {} });
  });
}

/** The audit entry of a failed sign-in: `login.locked` with the lock's end when it locked the account, else `login.failed`. */
function signInEntry(account: Account, meta: RequestMeta, lockedUntil: Date | null): AuditEntry {
  return {
    actor: `account:${account.id}`,
    action: lockedUntil ? 'login.locked' : 'login.failed',
    accountId: account.id,
    personId: account.personId,
    ip: meta.ip,
    correlationId: meta.correlationId,
    details: lockedUntil ? { until: lockedUntil.toISOString() } : {},
  };
}

export const invalidCredentialsText = (locale: Locale) => translate(locale, 'error.auth.invalid_credentials');
