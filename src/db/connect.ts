import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type pgTypes from 'pg';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL schema this connection works in, when not the default. */
  schema?: string;
  close(): Promise<void>;
}

/**
 * better-sqlite3 12 (a classic addon) is the driver that works on Node 20; on Node 24 its
 * statements crash the process when they are finalised. Version 13 is built on Node-API and
 * works on Node 22 and later, but not on 20. So the driver is chosen by the running Node.
 */
const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);
export const SQLite = require(nodeMajor >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3') as typeof BetterSqlite3;

/** The PostgreSQL client, loaded when a postgres:// database is opened (SQLite deployments never load it). */
let pgModule: typeof pgTypes | undefined;
function pgClient(): typeof pgTypes {
  if (!pgModule) {
    pgModule = require('pg') as typeof pgTypes;
    // COUNT(*) and BIGINT come back from PostgreSQL as strings; Tessera's counters fit in a double.
    pgModule.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  }
  return pgModule;
}

/**
 * better-sqlite3 with its prepared statements reused: Kysely prepares every query it runs, and
 * preparing costs more than running most of Tessera's indexed statements. Kysely's SQL text is
 * the same for the same query shape (values are parameters), so a small bounded cache holds
 * nearly every statement. SQLite re-prepares a cached statement by itself after a schema change.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, max = 500): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop === 'prepare') {
        return (sql: string) => {
          let stmt = cache.get(sql);
          // A statement still iterating (a streamed query) cannot run twice at once: prepare anew.
          if (stmt?.busy) return target.prepare(sql);
          if (!stmt) {
            stmt = target.prepare(sql);
            if (cache.size >= max) cache.delete(cache.keys().next().value!);
            cache.set(sql, stmt);
          }
          return stmt;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Opens the database named by a `sqlite:` or `postgres://` URL.
 * `schema` (PostgreSQL only) sets the search_path, used by tests to isolate runs.
 */
export function connect(url: string, opts: { schema?: string; poolSize?: number } = {}): Db {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length) || ':memory:';
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const sqlite = new SQLite(path === ':memory:' ? ':memory:' : resolve(path));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('cache_size = -65536');
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
  }
  const pool = new (pgClient().Pool)({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, dialect: 'postgres', ...(opts.schema ? { schema: opts.schema } : {}), close: () => kysely.destroy() };
}
