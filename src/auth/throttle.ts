import type { Kysely } from 'kysely';
import { preparedQuery } from '../db/prepared.js';
import type { Database } from '../db/schema.js';

/**
 * Failed-login counters, kept in the database so every instance sees the same numbers. They are
 * checked before any password hash is computed: a locked key costs one indexed read.
 */
export interface ThrottleRule {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  /**
   * Whether a window filled by attempts not yet checked locks the key (the default). A key that
   * many people share (a client address: a campus behind one NAT, where dozens sign in at the
   * same minute) is not locked by them, since their passwords may all be right: the attempt
   * that finds no place left is refused (`reserveAttempt`'s `full`), and only failures lock it.
   */
  lockWhenFull?: boolean;
}

export const accountKey = (accountId: string) => `acct:${accountId}`;
/**
 * The key of a client address. An IPv6 client is counted by its /64 network: one host is given a
 * whole /64 and can change addresses within it at will. IPv4 (also IPv4-mapped) is the address.
 */
export const addressKey = (ip: string): string => {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (v4 || !ip.includes(':')) return `ip:${v4 ? v4[1] : ip}`;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `ip6:${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
};

/**
 * The upsert of `reserveAttempt` for the keys of one window, prepared once per number of keys: a
 * new key starts at one failure; a stored one counts one more, or starts again when its window
 * has passed or its lock ended.
 */
function reservation() {
  return preparedQuery((db, now: string, cutoff: string, ...keys: string[]) =>
    db
      .insertInto('login_throttle')
      .values(keys.map((key) => ({ key, failures: 1, window_start: now, locked_until: null })))
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => {
          const fresh = eb.or([eb('login_throttle.window_start', '<', cutoff), eb.and([eb('login_throttle.locked_until', 'is not', null), eb('login_throttle.locked_until', '<=', now)])]);
          return {
            failures: eb.case().when(fresh).then(1).else(eb('login_throttle.failures', '+', 1)).end(),
            window_start: eb.case().when(fresh).then(now).else(eb.ref('login_throttle.window_start')).end(),
            locked_until: eb.case().when(fresh).then(null).else(eb.ref('login_throttle.locked_until')).end(),
          };
        }),
      )
      .returning(['key', 'failures', 'locked_until'])
      .$castTo<{ key: string; failures: number; locked_until: string | null }>(),
  );
}
// A login reserves on two keys (username and address), a step without an address on one.
const reservations = new Map<number, ReturnType<typeof reservation>>();
const lockIfUnlocked = preparedQuery((db, key: string, until: string) =>
  db.updateTable('login_throttle').set({ locked_until: until }).where('key', '=', key).where('locked_until', 'is', null),
);
const counterOf = preparedQuery((db, key: string) => db.selectFrom('login_throttle').select(['failures', 'locked_until', 'window_start']).where('key', '=', key));
const lockKey = preparedQuery((db, key: string, until: string) => db.updateTable('login_throttle').set({ locked_until: until }).where('key', '=', key));
const giveBackOne = preparedQuery((db, key: string) =>
  db
    .updateTable('login_throttle')
    .set((eb) => ({ failures: eb.case().when('failures', '>', 0).then(eb('failures', '-', 1)).else(0).end() }))
    .where('key', '=', key),
);
const deleteKey = preparedQuery((db, key: string) => db.deleteFrom('login_throttle').where('key', '=', key));

/**
 * Takes one place for an attempt on each key, before its password hash is computed, with one
 * atomic upsert per key: concurrent attempts each take their own place, so no more than the rule's
 * maximum are ever checked in a window, however many arrive at once. An attempt that finds the
 * key locked, or no place left (it then locks the key), is refused without a hash. A window that
 * has passed, or a lock that has ended, starts the count again. Returns the lock end, if any.
 * A failure keeps its place (`settleFailure`); a success gives it back (`releaseAttempt`).
 * `lockedNow`, when given, receives the keys this very call locked (so the lock is told once);
 * `full`, the keys of a rule that does not lock when full (`lockWhenFull: false`) found without a
 * place: the attempt is then to be refused, its places given back.
 */
export async function reserveAttempt(db: Kysely<Database>, keys: Array<[string, ThrottleRule]>, at: Date, lockedNow?: string[], full?: string[]): Promise<Date | null> {
  const now = at.toISOString();
  let until: Date | null = null;
  // One statement per window length (the keys of a login share one): atomic on its own.
  for (const windowMs of new Set(keys.map(([, r]) => r.windowMs))) {
    const group = keys.filter(([, r]) => r.windowMs === windowMs);
    const cutoff = new Date(at.getTime() - windowMs).toISOString();
    let upsert = reservations.get(group.length);
    if (!upsert) reservations.set(group.length, (upsert = reservation()));
    const rows = await upsert.all(db, now, cutoff, ...group.map(([key]) => key));
    for (const row of rows) {
      const rule = group.find(([k]) => k === row.key)![1];
      let lock = row.locked_until && row.locked_until > now ? new Date(row.locked_until) : null;
      if (!lock && row.failures > rule.maxFailures && rule.lockWhenFull === false) {
        full?.push(row.key);
      } else if (!lock && row.failures > rule.maxFailures) {
        lock = new Date(at.getTime() + rule.lockMs);
        if ((await lockIfUnlocked.run(db, row.key, lock.toISOString())) === 1) lockedNow?.push(row.key);
      }
      if (lock && (!until || lock > until)) until = lock;
    }
  }
  return until;
}

/**
 * A checked attempt failed: its place stays taken. The failure that fills the window locks the
 * key. Returns the lock end, if any, and whether this failure set it (`lockedNow`; a lock
 * already in force, set by a parallel attempt, is not set again).
 */
export async function settleFailure(tx: Kysely<Database>, key: string, rule: ThrottleRule, at: Date): Promise<{ until: Date | null; lockedNow: boolean }> {
  const row = await counterOf.first(tx, key);
  if (!row || row.failures < rule.maxFailures) return { until: null, lockedNow: false };
  if (row.locked_until && row.locked_until > at.toISOString()) return { until: new Date(row.locked_until), lockedNow: false };
  const lock = new Date(at.getTime() + rule.lockMs);
  await lockKey.run(tx, key, lock.toISOString());
  return { until: lock, lockedNow: true };
}

/** A checked attempt succeeded: the place it took on `key` is given back. */
export async function releaseAttempt(tx: Kysely<Database>, key: string): Promise<void> {
  await giveBackOne.run(tx, key);
}

export async function clearFailures(tx: Kysely<Database>, key: string): Promise<void> {
  await deleteKey.run(tx, key);
}

/**
 * A counter as the helpdesk reads it at `at`: the failures counted in its current window and the
 * end of a lock in force (null when none). A window that has passed, or a lock that has ended,
 * counts nothing.
 */
export async function throttleState(db: Kysely<Database>, key: string, rule: ThrottleRule, at: Date): Promise<{ failures: number; lockedUntil: string | null }> {
  const row = await counterOf.first(db, key);
  const now = at.toISOString();
  if (row?.locked_until && row.locked_until > now) return { failures: row.failures, lockedUntil: row.locked_until };
  const current = row && !row.locked_until && row.window_start >= new Date(at.getTime() - rule.windowMs).toISOString();
  return { failures: current ? row.failures : 0, lockedUntil: null };
}

/**
 * Deletes counters that hold nothing any more: no lock in force and a window older than `olderThan`
 * (every attempt writes one; run by `serve` now and then). Returns how many.
 */
export async function sweepThrottle(db: Kysely<Database>, olderThan: Date, at: Date): Promise<number> {
  const res = await db
    .deleteFrom('login_throttle')
    .where('window_start', '<', olderThan.toISOString())
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', at.toISOString())]))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
