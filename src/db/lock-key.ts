import { sql } from 'kysely';
import type { Tx } from '../flows/kernel/types.js';
import type { Dialect } from './connect.js';

/**
 * Holds a lock on `key` until the transaction ends, so that transactions that first look and then
 * write under the same key run one after the other: two choosing the first free address from the
 * same pattern (the second then sees the first's row and takes the next suffix), two imports
 * creating the same people (the second then finds them stored). PostgreSQL: a transaction-scoped
 * advisory lock on the key's hash. SQLite: nothing to do, its write transactions already run one
 * at a time (BEGIN IMMEDIATE).
 */
export async function lockKey(tx: Tx, dialect: Dialect, key: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${`tessera:${key}`}, 0))`.execute(tx);
}
