import { sql } from 'kysely';
import type { Tx } from '../flows/kernel/types.js';
import type { Dialect } from './connect.js';

/**
 * Holds locks on `keys` until the transaction ends, so that transactions that first look and then
 * write under the same key run one after the other: two choosing the first free address from the
 * same pattern (the second then sees the first's row and takes the next suffix), two imports
 * creating the same people (the second then finds them stored). PostgreSQL: transaction-scoped
 * advisory locks on the keys' hashes, taken in one statement and in sorted order, so that two
 * transactions locking overlapping sets never wait for each other in a circle. SQLite: nothing to
 * do, its write transactions already run one at a time (BEGIN IMMEDIATE).
 */
export async function lockKeys(tx: Tx, dialect: Dialect, keys: readonly string[]): Promise<void> {
  if (dialect !== 'postgres' || keys.length === 0) return;
  const sorted = [...new Set(keys.map((k) => `tessera:${k}`))].sort();
  await sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(${sorted}::text[]) as k`.execute(tx);
}
