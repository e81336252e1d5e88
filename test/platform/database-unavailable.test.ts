import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { installErrorHandler } from '../../src/app/error-handler.js';
import { SQLite } from '../../src/db/connect.js';
import { makeApp, type TestApp } from '../helpers/app.js';

/** The errors the database drivers really throw when the database cannot serve a request. */
async function driverErrors(dir: string): Promise<Record<string, unknown>> {
  // PostgreSQL not answering (nothing listens on port 1).
  const client = new pg.Client({ host: '127.0.0.1', port: 1, user: 'tessera', database: 'tessera', connectionTimeoutMillis: 2000 });
  const refused = await client.connect().then(
    () => assert.fail('connected'),
    (e: unknown) => e,
  );
  // SQLite: another writer holds the file past the wait.
  const file = join(dir, 'busy.db');
  const holder = new SQLite(file);
  holder.exec('CREATE TABLE t (x)');
  holder.exec('BEGIN IMMEDIATE');
  const waiter = new SQLite(file, { timeout: 0 });
  let busy: unknown;
  try {
    waiter.exec('INSERT INTO t VALUES (1)');
  } catch (e) {
    busy = e;
  }
  holder.exec('ROLLBACK');
  holder.close();
  waiter.close();
  return {
    refused,
    // PostgreSQL restarting under a running instance: the connection in use is ended.
    terminated: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }),
    ended: new Error('Connection terminated unexpectedly'),
    busy,
  };
}

describe('a database that cannot serve a request', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let dir: string;
  before(async () => {
    t = await makeApp();
    dir = mkdtempSync(join(tmpdir(), 'tessera-unavailable-'));
    const errors = await driverErrors(dir);
    app = Fastify({ logger: false });
    installErrorHandler(app, t.ctx);
    for (const [name, err] of Object.entries(errors)) {
      app.get(`/api/v1/${name}`, async () => {
        throw err;
      });
      app.get(`/page/${name}`, async () => {
        throw err;
      });
    }
    app.get('/api/v1/bug', async () => {
      throw new TypeError('a bug');
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 "try again in a moment" with Retry-After, in the person\'s language, not an unexpected error', async () => {
    for (const name of ['refused', 'terminated', 'ended']) {
      const r = await app.inject({ method: 'GET', url: `/api/v1/${name}`, headers: { 'accept-language': 'it' } });
      assert.equal(r.statusCode, 503, name);
      assert.equal(r.headers['retry-after'], '5', name);
      assert.equal(r.json().error.code, 'server.unavailable', name);
      assert.match(r.json().error.message, /Non è stato modificato nulla/, name);
    }
    const busy = await app.inject({ method: 'GET', url: '/api/v1/busy' });
    assert.equal(busy.statusCode, 503);
    assert.equal(busy.json().error.code, 'server.busy');
    // A page says it too, in Greek here.
    const page = await app.inject({ method: 'GET', url: '/page/refused', headers: { accept: 'text/html', 'accept-language': 'el' } });
    assert.equal(page.statusCode, 503);
    assert.match(page.body, /Δεν άλλαξε τίποτα/);
    // A fault in Tessera itself is still one.
    const bug = await app.inject({ method: 'GET', url: '/api/v1/bug' });
    assert.equal(bug.statusCode, 500);
    assert.equal(bug.json().error.code, 'server.internal');
  });
});
