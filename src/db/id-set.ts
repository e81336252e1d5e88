import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from './connect.js';

/**
 * The ids of a batch as ONE bound parameter (a JSON array on SQLite, a text array on PostgreSQL):
 * a batch of any size binds as fast as one id, and no statement meets the parameter limit.
 */
export function idSet(dialect: Dialect, ids: readonly string[]): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`(select unnest(${[...ids]}::text[]))` : sql<string>`(select value from json_each(${JSON.stringify(ids)}))`;
}
