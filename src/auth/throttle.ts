import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Failed-login counters, kept in the database so every instance sees the same numbers. They are
 * checked before any password hash is computed: a locked key costs one indexed read.
 */
export interface ThrottleRule {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const accountKey = (accountId: string) => `acct:${accountId}`;
export const addressKey = (ip: string) => `ip:${ip}`;

/**
 * The latest lock end among `keys` (null when none is locked), and which keys have a counter row
 * at all (so a success clears only what exists).
 */
export async function throttleState(db: Kysely<Database>, keys: string[], at: Date): Promise<{ until: Date | null; present: Set<string> }> {
  const rows = keys.length ? await db.selectFrom('login_throttle').select(['key', 'locked_until']).where('key', 'in', keys).execute() : [];
  let until: Date | null = null;
  for (const r of rows) {
    if (r.locked_until && r.locked_until > at.toISOString()) {
      const d = new Date(r.locked_until);
      if (!until || d > until) until = d;
    }
  }
  return { until, present: new Set(rows.map((r) => r.key)) };
}

/**
 * Counts one failure for `key` with a single atomic upsert (concurrent failures all count), and
 * locks the key when the window's count reaches the rule's maximum. Returns the lock end, if any.
 */
export async function recordFailure(tx: Kysely<Database>, key: string, rule: ThrottleRule, at: Date): Promise<Date | null> {
  const now = at.toISOString();
  const cutoff = new Date(at.getTime() - rule.windowMs).toISOString();
  await tx
    .insertInto('login_throttle')
    .values({ key, failures: 1, window_start: now, locked_until: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        failures: eb.case().when('login_throttle.window_start', '<', cutoff).then(1).else(eb('login_throttle.failures', '+', 1)).end(),
        window_start: eb.case().when('login_throttle.window_start', '<', cutoff).then(now).else(eb.ref('login_throttle.window_start')).end(),
      })),
    )
    .execute();
  const row = await tx.selectFrom('login_throttle').select('failures').where('key', '=', key).executeTakeFirst();
  if (!row || row.failures < rule.maxFailures) return null;
  const lock = new Date(at.getTime() + rule.lockMs);
  await tx.updateTable('login_throttle').set({ locked_until: lock.toISOString(), failures: 0, window_start: now }).where('key', '=', key).execute();
  return lock;
}

export async function clearFailures(tx: Kysely<Database>, key: string): Promise<void> {
  await tx.deleteFrom('login_throttle').where('key', '=', key).execute();
}
