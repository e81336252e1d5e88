import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createContext } from '../../src/app/container.js';
import type { AppContext } from '../../src/app/context.js';
import { buildServer } from '../../src/app/server.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import type { InstitutionConfig } from '../../src/config/institution-schema.js';
import { connect, type Db } from '../../src/db/connect.js';
import { TestClock } from '../../src/ports/clock.js';

/** The database the suite runs on: SQLite in memory, or PostgreSQL when TEST_DATABASE_URL says so. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'sqlite::memory:';
export const onPostgres = testDatabaseUrl.startsWith('postgres');

/**
 * A fresh, migrated database for one test: in-memory SQLite, or a schema of its own in
 * PostgreSQL (dropped on close), so test files can run in parallel.
 */
export async function freshDb(): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (!onPostgres) {
    const db = connect('sqlite::memory:');
    return { db, drop: () => db.close() };
  }
  const { db, drop } = await pgTestSchema();
  return { db, drop };
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: testDatabaseUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A PostgreSQL schema of its own in the test database (dropped by `drop`), and a connection to it. */
export async function pgTestSchema(): Promise<{ schema: string; db: Db; drop: () => Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const db = connect(testDatabaseUrl, { schema, poolSize: 5 });
  return {
    schema,
    db,
    drop: async () => {
      await db.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

export interface TestApp {
  ctx: AppContext;
  app: FastifyInstance;
  clock: TestClock;
  close(): Promise<void>;
}

/** The demo institution's configuration, with `patch` applied on top (shallow per section). */
export function testConfig(patch: (c: InstitutionConfig) => void = () => {}): InstitutionConfig {
  const c = structuredClone(loadInstitution(undefined).config);
  c.demo.seed = false;
  patch(c);
  return c;
}

/** A running Tessera (not listening: requests go through inject) on a fresh database. */
export async function makeApp(
  opts: { config?: InstitutionConfig; env?: Record<string, string>; clock?: TestClock } = {},
): Promise<TestApp> {
  const { db, drop } = await freshDb();
  const clock = opts.clock ?? new TestClock();
  const env = readEnv({
    NODE_ENV: 'test',
    TESSERA_SECRET: 'test-secret-test-secret-test-secret-0123',
    TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL: 'http://localhost:3000',
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const ctx = await createContext({ env, config: opts.config ?? testConfig(), db, clock, logLevel: 'silent' });
  const app = await buildServer(ctx, { logger: false });
  await app.ready();
  return {
    ctx,
    app,
    clock,
    close: async () => {
      await app.close();
      await drop();
    },
  };
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
