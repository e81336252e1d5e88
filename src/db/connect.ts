import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  sql,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type SchemaMetadata,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
  type TableMetadata,
} from 'kysely';
import type pgTypes from 'pg';
import type { Database } from './schema.js';
import { WriteGate, type GateRole } from './write-gate.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL schema this connection works in, when not the default. */
  schema?: string;
  /** SQLite: the database file (absent for an in-memory database, which no other thread can open). */
  file?: string;
  /**
   * SQLite file: the shared memory through which another thread's connection to the same file
   * takes turns with this one to write (see write-gate.ts).
   */
  writeGate?(): SharedArrayBuffer;
  close(): Promise<void>;
  /**
   * PostgreSQL: tells `listener` when an idle connection of the pool ended (a server restart or
   * failover, a pooler or firewall closing idle connections). The pool drops it and opens a new
   * one for the next query; the process goes on.
   */
  onConnectionError?(listener: (err: Error) => void): void;
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
function withStatementCache(sqlite: BetterSqlite3.Database, gate: WriteGate | undefined, max = 500): SqliteDatabase {
  // Each entry keeps the statement itself: its native properties (busy) are read on it, never
  // through the gated stand-in, whose methods only forward to it.
  const cache = new Map<string, { raw: BetterSqlite3.Statement; stmt: SqliteStatement }>();
  const prepare = (sql: string) => {
    const raw = sqlite.prepare(sql);
    return { raw, stmt: gate ? gated(raw, sql, sqlite, gate) : raw };
  };
  return {
    prepare(sql: string) {
      let entry = cache.get(sql);
      // A statement still iterating (a streamed query) cannot run twice at once: prepare anew.
      if (entry?.raw.busy) return prepare(sql).stmt;
      if (!entry) {
        entry = prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(sql, entry);
      }
      return entry.stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

/**
 * A statement that writes takes its turn at the write gate: a transaction from its BEGIN to its
 * COMMIT or ROLLBACK, a statement outside a transaction for itself. Reads need no turn (WAL).
 */
function gated(stmt: BetterSqlite3.Statement, sql: string, db: BetterSqlite3.Database, gate: WriteGate): SqliteStatement {
  const kind = /^\s*begin\b/i.test(sql) ? 'begin' : /^\s*(commit|end|rollback(?!\s+to\b))\b/i.test(sql) ? 'end' : stmt.readonly ? 'read' : 'write';
  if (kind === 'read') return stmt;
  const pragma = (p: string) => db.pragma(p);
  const turn = <T>(run: () => T): T => {
    if ((kind === 'write' && db.inTransaction) || (kind === 'end' && !gate.holding)) return run();
    gate.enter();
    let ok = false;
    try {
      if (kind !== 'begin') gate.beforeWrite(pragma);
      const out = run();
      ok = true;
      return out;
    } finally {
      // A transaction keeps its turn from BEGIN until it ends.
      if (kind !== 'begin' || !ok) gate.leave();
      if (kind === 'end') gate.leave();
      if (kind !== 'begin' && ok) gate.afterCommit(pragma);
    }
  };
  // A plain object: better-sqlite3's properties are native and must be read on the statement
  // itself (read through an object derived from it, they read foreign memory).
  const reader = stmt.reader;
  return {
    reader,
    all: (parameters: ReadonlyArray<unknown>) => turn(() => stmt.all(parameters)),
    run: (parameters: ReadonlyArray<unknown>) => turn(() => stmt.run(parameters)),
    iterate: (parameters: ReadonlyArray<unknown>) => stmt.iterate(parameters),
  } as SqliteStatement;
}

/** Kysely's query kinds that write. */
const writeKinds = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);

/**
 * Transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE). With the default
 * deferred BEGIN, a transaction that reads and then writes fails at once with "database is
 * locked" when another connection (a job's thread, a second process) committed in between: the
 * busy timeout cannot help it, because its snapshot is already stale. Taking the lock first makes
 * it wait its turn instead, up to the busy timeout.
 *
 * With a write gate, the server's transactions and its writes outside a transaction first wait
 * for their turn asynchronously (WriteGate.awaitTurn), so a job's batch on another thread holds
 * back the server's database work, not its event loop.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly settings: SqliteDialectConfig,
    private readonly gate?: { gate: WriteGate; sqlite: BetterSqlite3.Database },
  ) {
    super(settings);
  }
  override createDriver() {
    const turn = this.gate ? () => this.gate!.gate.awaitTurn() : undefined;
    const inTransaction = () => this.gate?.sqlite.inTransaction ?? false;
    // A write outside a transaction waits for its turn too (inside one, the transaction has it).
    const waitingForTurn = (connection: DatabaseConnection, turn: () => Promise<() => void>): DatabaseConnection => ({
      executeQuery: async <R>(query: CompiledQuery) => {
        if (inTransaction() || !writeKinds.has(query.query.kind)) return connection.executeQuery<R>(query);
        const release = await turn();
        try {
          return await connection.executeQuery<R>(query);
        } finally {
          release();
        }
      },
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => connection.streamQuery<R>(query, chunkSize),
    });
    // The driver has one connection: it is wrapped once, not on every query.
    let wrapped: { of: DatabaseConnection; as: DatabaseConnection } | undefined;
    return new (class extends SqliteDriver {
      override async acquireConnection(): Promise<DatabaseConnection> {
        const connection = await super.acquireConnection();
        if (!turn) return connection;
        if (wrapped?.of !== connection) wrapped = { of: connection, as: waitingForTurn(connection, turn) };
        return wrapped.as;
      }
      override async beginTransaction(connection: DatabaseConnection) {
        const release = turn ? await turn() : undefined;
        try {
          await connection.executeQuery(CompiledQuery.raw('begin immediate'));
        } finally {
          release?.();
        }
      }
    })(this.settings);
  }
}

/**
 * PostgreSQL introspection limited to the connection's own schema. Kysely's migrator asks for the
 * tables of the whole database, and its introspector calls functions on every schema's name: a
 * schema dropped meanwhile by another connection (another Tessera sharing the database, parallel
 * test runs) makes that query fail with "schema … does not exist". Tessera only ever asks whether
 * its own tables exist.
 */
class OwnSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<unknown>) {}
  async getSchemas(): Promise<SchemaMetadata[]> {
    const r = await sql<{ name: string }>`select current_schema() as name`.execute(this.db);
    return r.rows;
  }
  async getTables(): Promise<TableMetadata[]> {
    const r = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'v', 'p')`.execute(this.db);
    return r.rows.map((t) => ({ name: t.name, schema: t.schema, isView: t.kind === 'v', columns: [] }));
  }
  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

/** How every SQLite connection of Tessera's is set up: WAL, foreign keys, a 64 MiB page cache. */
export const sqlitePragmas = ['journal_mode = WAL', 'synchronous = NORMAL', 'foreign_keys = ON', 'busy_timeout = 5000', 'cache_size = -65536'] as const;

/** The file of a `sqlite:` URL (resolved), or null for an in-memory database or PostgreSQL. */
export function sqliteFileOf(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const path = url.slice('sqlite:'.length) || ':memory:';
  return path === ':memory:' ? null : resolve(path);
}

/**
 * Opens the database named by a `sqlite:` or `postgres://` URL.
 * `schema` (PostgreSQL only) sets the search_path, used by tests to isolate runs.
 */
export function connect(url: string, opts: { schema?: string; poolSize?: number; writeGate?: { memory: SharedArrayBuffer; role: GateRole } } = {}): Db {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length) || ':memory:';
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const sqlite = new SQLite(path === ':memory:' ? ':memory:' : resolve(path));
    for (const p of sqlitePragmas) sqlite.pragma(p);
    // A file can be opened by a job's thread too: its writes and this connection's take turns.
    const gate = path === ':memory:' ? undefined : new WriteGate(opts.writeGate?.memory ?? WriteGate.memory(), opts.writeGate?.role ?? 'server');
    const kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite, gate) }, gate ? { gate, sqlite } : undefined) });
    if (!gate) return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
    gate.opened((p) => sqlite.pragma(p));
    const memory = gate.memory;
    return {
      kysely,
      dialect: 'sqlite',
      file: resolve(path),
      writeGate: () => memory,
      close: async () => {
        await kysely.destroy();
        gate.closed();
      },
    };
  }
  const pool = new (pgClient().Pool)({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // Without a listener, an idle client's 'error' event would end the process (every instance at
  // once, on a PostgreSQL restart).
  const listeners = new Set<(err: Error) => void>();
  pool.on('error', (err: Error) => {
    for (const listener of listeners) listener(err);
  });
  const kysely = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    ...(opts.schema ? { schema: opts.schema } : {}),
    close: () => kysely.destroy(),
    onConnectionError: (listener) => void listeners.add(listener),
  };
}
