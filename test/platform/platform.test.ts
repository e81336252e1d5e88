import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { errorCatalog, fieldCodes } from '../../src/errors/catalog.js';
import { conflictingKeys, hasMessage, locales } from '../../src/i18n/index.js';
import { loggerOptions, redactUrl } from '../../src/observability/logger.js';
import { audit } from '../../src/audit/audit.js';
import { migrateDown, migrateUp, migrationsApplied } from '../../src/db/migrate.js';
import { bulkInsert } from '../../src/db/bulk-insert.js';
import { buildServer } from '../../src/app/server.js';
import { ADMIN_TOKEN, freshDb, makeApp, onPostgres, pgTestSchema, testDatabaseUrl, type TestApp } from '../helpers/app.js';
import { sql } from 'kysely';
import { connect } from '../../src/db/connect.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

describe('platform', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('has health, readiness and Prometheus metrics', async () => {
    assert.deepEqual((await t.app.inject('/healthz')).json(), { status: 'ok' });
    const ready = await t.app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
    await t.app.inject('/');
    const m = await t.app.inject('/metrics');
    assert.match(String(m.headers['content-type']), /text\/plain/);
    assert.match(m.body, /tessera_http_request_duration_seconds_bucket\{/);
    assert.match(m.body, /tessera_process_cpu_seconds_total/);
  });

  it('sends a strict Content-Security-Policy and the usual security headers', async () => {
    const r = await t.app.inject({ url: '/', headers: { accept: 'text/html' } });
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.ok(r.headers['x-request-id']);
  });

  it('has every error and field code translated in it, en and el', () => {
    const missing: string[] = [];
    for (const code of [...Object.keys(errorCatalog), ...fieldCodes]) {
      for (const l of locales) if (!hasMessage(`error.${code}`, l)) missing.push(`${l}:${code}`);
    }
    assert.deepEqual(missing, []);
  });

  it('never defines one message key with two different texts', () => {
    assert.deepEqual(conflictingKeys(), []);
  });

  it('answers errors in the JSON envelope, in the language asked', async () => {
    const r = await apiClient(t.app, { lang: 'it-IT,it;q=0.9,en;q=0.5' }).request('GET', '/api/v1/nothing-here');
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'fields', 'message']);
    assert.equal(r.body.error.message, 'Non trovato.');
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/flows/login', headers: { 'content-type': 'application/json' }, payload: '{bad json' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'request.invalid');
    // A JSON answer outside the API, without Accept-Language, is in English (the institution's
    // default language is for pages); with Accept-Language, in the language asked.
    const page = await t.app.inject({ method: 'GET', url: '/nothing-here' });
    assert.equal(page.statusCode, 404);
    assert.equal(page.json().error.message, 'Not found.');
    const el = await t.app.inject({ method: 'GET', url: '/nothing-here', headers: { 'accept-language': 'el' } });
    assert.notEqual(el.json().error.message, 'Not found.');
    const html = await t.app.inject({ method: 'GET', url: '/nothing-here', headers: { accept: 'text/html' } });
    assert.match(html.body, /Pagina non trovata/, 'pages keep the institution\'s default language');
  });

  it('on PostgreSQL, outlives a database connection that ends while idle', { skip: !onPostgres && 'PostgreSQL only' }, async () => {
    const db = connect(testDatabaseUrl, { poolSize: 1 });
    const ended: Error[] = [];
    db.onConnectionError!((err) => ended.push(err));
    try {
      const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.kysely)).rows[0]!.pid;
      const other = connect(testDatabaseUrl, { poolSize: 1 });
      await sql`select pg_terminate_backend(${pid})`.execute(other.kysely);
      await other.close();
      for (let i = 0; i < 200 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(ended.length, 1, 'the pool reported the ended connection');
      // The process is still here, and the next query opens a new connection.
      const again = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.kysely)).rows[0]!.pid;
      assert.notEqual(again, pid);
    } finally {
      await db.close();
    }
  });

  it('answers router and HTTP-parser refusals in the error envelope too', async () => {
    const long = await t.app.inject({ method: 'GET', url: `/api/v1/flows/login/${'a'.repeat(300)}` });
    assert.equal(long.statusCode, 414);
    assert.equal(long.json().error.code, 'request.invalid');
    // A 120-character username is a path segment the router keeps.
    const user = await t.app.inject({ method: 'GET', url: `/api/v1/admin/accounts/${'u'.repeat(120)}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.notEqual(user.statusCode, 414);
    // Headers too large never reach Fastify: the socket gets the envelope.
    const server = await makeApp();
    try {
      const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${address}/healthz`, { headers: { 'x-filler': 'x'.repeat(20_000) } });
      assert.equal(res.status, 431);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'request.too_large');
    } finally {
      await server.close();
    }
  });

  it('protects the admin API with the bearer token and never shows password hashes', async () => {
    await seedAccount(t.ctx, { externalId: 'adm1', status: 'active', password: 'Whatever-1' });
    const none = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/adm1');
    assert.equal(none.status, 401);
    const wrong = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/adm1', undefined, { authorization: 'Bearer wrong-token-wrong-token-wrong' });
    assert.equal(wrong.status, 401);
    const ok = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/ADM1', undefined, adminHeaders);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.account.username, 'adm1');
    assert.equal(ok.body.status, 'active');
    assert.equal(ok.body.person.externalId, 'adm1');
    assert.ok(Array.isArray(ok.body.timeline));
    assert.doesNotMatch(ok.res.body, /argon2/);
    const missing = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/nobody', undefined, adminHeaders);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'account.not_found');
  });

  it('shows the newest 1000 timeline entries, oldest first, and pages back with ?before=', async () => {
    const { accountId, personId } = await seedAccount(t.ctx, { externalId: 'busy1', status: 'active', password: 'Whatever-1' });
    const base = Date.parse('2025-01-01T00:00:00Z');
    for (let i = 0; i < 1004; i += 200) {
      const n = Math.min(200, 1004 - i);
      await t.ctx.db.kysely
        .insertInto('audit_log')
        .values(Array.from({ length: n }, (_, j) => ({ at: new Date(base + (i + j) * 60_000).toISOString(), actor: 'test', action: `test.step_${i + j}`, account_id: accountId, person_id: personId, ip: null, correlation_id: null, details: '{}' })))
        .execute();
    }
    const first = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/busy1', undefined, adminHeaders);
    assert.equal(first.status, 200);
    const entries = first.body.timeline as Array<{ id: number; action: string }>;
    assert.equal(entries.length, 1000);
    assert.equal(first.body.timelineMore, true);
    assert.equal(entries.at(-1)!.action, 'test.step_1003', 'the newest entry is there');
    assert.ok(entries.every((e, i) => i === 0 || e.id > entries[i - 1]!.id), 'oldest first');
    const older = await apiClient(t.app).request('GET', `/api/v1/admin/accounts/busy1?before=${entries[0]!.id}`, undefined, adminHeaders);
    assert.equal(older.status, 200);
    assert.equal(older.body.timelineMore, false);
    const rest = (older.body.timeline as Array<{ action: string }>).map((e) => e.action);
    assert.ok(rest.includes('test.step_0') && rest.at(-1) === `test.step_${1003 - 1000}`, rest.join());
    for (const bad of ['abc', '0', '-3']) {
      const r = await apiClient(t.app).request('GET', `/api/v1/admin/accounts/busy1?before=${bad}`, undefined, adminHeaders);
      assert.equal(r.status, 422, bad);
      assert.deepEqual(r.body.error.fields, { before: 'field.invalid' });
    }
  });

  it('keeps the audit log append-only in the database itself', async () => {
    await audit(t.ctx.db.kysely, new Date(), { actor: 'system', action: 'test.entry' });
    await assert.rejects(t.ctx.db.kysely.updateTable('audit_log').set({ action: 'tampered' }).execute());
    await assert.rejects(t.ctx.db.kysely.deleteFrom('audit_log').execute());
  });

  it('redacts secrets from logs, including secret query parameters', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const log = pino(loggerOptions('info'), sink);
    log.info({ body: { username: 'mario', password: 'Secret-1', newPassword: 'Secret-2', pin: '123456' }, token: 'tok', req: { id: '1', method: 'GET', url: '/verify-email?token=abc123&lang=it' } }, 'x');
    const out = lines.join('');
    for (const s of ['Secret-1', 'Secret-2', '123456', 'abc123', '"tok"']) assert.ok(!out.includes(s), `${s} leaked: ${out}`);
    assert.match(out, /mario/);
    assert.equal(redactUrl('/x?code=9&state=1&lang=el'), '/x?code=[REDACTED]&state=[REDACTED]&lang=el');
  });

  it('keeps flow ids (bearer secrets) out of the request log lines, API and HTML alike', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const logged = await makeApp({ env: { LOG_LEVEL: 'info' } });
    const app = await buildServer(logged.ctx, { logStream: sink });
    try {
      await app.ready();
      const c = apiClient(app);
      const api = (await c.start('password-reset')).body.id as string;
      await c.request('GET', `/api/v1/flows/password-reset/${api}`);
      await c.submit('password-reset', api, { identifier: 'nobody' });
      await c.request('GET', `/api/v1/flows/password-reset/${api}?lang=el`);
      const page = await app.inject({ method: 'GET', url: '/flows/username-recovery' });
      const html = /\/flows\/username-recovery\/([^/?#]+)/.exec(String(page.headers.location))![1]!;
      const cookie = page.cookies.map((k) => `${k.name}=${k.value}`).join('; ');
      assert.equal((await app.inject({ method: 'GET', url: `/flows/username-recovery/${html}`, headers: { cookie } })).statusCode, 200);
      await app.inject({ method: 'POST', url: `/flows/username-recovery/${html}`, payload: 'email=x%40example.org', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' } });
      const out = lines.join('');
      assert.match(out, /"url":"\/api\/v1\/flows\/password-reset\/\[REDACTED\]"/);
      assert.match(out, /"url":"\/api\/v1\/flows\/password-reset\/\[REDACTED\]\?lang=el"/);
      assert.match(out, /"url":"\/flows\/username-recovery\/\[REDACTED\]"/);
      for (const id of [api, html]) assert.ok(!out.includes(id), `flow id leaked: ${out}`);
      // Health and readiness probes (every few seconds from every balancer) write no lines.
      const before = lines.length;
      for (const url of ['/healthz', '/readyz']) assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200);
      assert.equal(lines.length, before, lines.slice(before).join(''));
      // A readiness check that fails says why, once, as a warning (here a migration not applied).
      await migrateDown(logged.ctx.db, 1);
      const notReady = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      assert.equal(notReady.json().status, 'migrations_pending');
      const said = lines.slice(before).map((l) => JSON.parse(l) as { level: number; msg: string });
      assert.deepEqual(said.map((l) => [l.level, l.msg]), [[40, 'not ready: migrations are pending']]);
      await migrateUp(logged.ctx.db);
    } finally {
      await app.close();
      await logged.close();
    }
    assert.equal(redactUrl('/flows/login/AbC_d-1/next?return_to=%2Fflows%2Fpassword-change%2FXyZ9&lang=it'), '/flows/login/[REDACTED]/next?return_to=%2Fflows%2Fpassword-change%2F[REDACTED]&lang=it');
    assert.equal(redactUrl('/api/v1/flows/login'), '/api/v1/flows/login');
  });
});

describe('migrations', () => {
  it('go up, down and up again', async () => {
    const { db, drop } = await freshDb();
    try {
      await migrateUp(db);
      assert.equal(await migrationsApplied(db), true);
      const down = await migrateDown(db);
      assert.ok(down.length >= 2);
      assert.equal(await migrationsApplied(db), false);
      await migrateUp(db);
      assert.equal(await migrationsApplied(db), true);
    } finally {
      await drop();
    }
  });

  it('give the people stored before names were searchable their name keys, a batch at a time', async () => {
    const { db, drop } = await freshDb();
    try {
      await migrateUp(db);
      await migrateDown(db, 1);
      // More people than one batch, stored as before 0017 (no key columns).
      const at = '2026-01-01T00:00:00.000Z';
      const columns = ['id', 'population', 'external_id', 'given_name', 'family_name', 'registrar_status', 'source_hash', 'created_at', 'updated_at'] as const;
      const names = (i: number) => (i === 7 ? ['Μαρία', 'Παπαδοπούλου'] : i === 8 ? ['José', 'D’Angelo-Neri'] : ['Nicolò', `Ferrà ${i}`]);
      const rows = Array.from({ length: 1203 }, (_, i) => [`p-${String(i).padStart(5, '0')}`, 'student', `S${i}`, ...names(i), 'enrolled', 'old', at, at]);
      await bulkInsert(db.kysely, db.dialect, 'persons', columns, rows);
      assert.deepEqual(await migrateUp(db), ['0017-person-name-keys']);
      const keys = await db.kysely.selectFrom('persons').select(['id', 'name_key_family_first', 'name_key_given_first']).orderBy('id').execute();
      assert.equal(keys.length, 1203);
      assert.deepEqual(keys[7], { id: 'p-00007', name_key_family_first: 'παπαδοπουλου μαρια', name_key_given_first: 'μαρια παπαδοπουλου' });
      assert.deepEqual(keys[8], { id: 'p-00008', name_key_family_first: 'dangelo neri jose', name_key_given_first: 'jose dangelo neri' });
      assert.deepEqual(keys[1202], { id: 'p-01202', name_key_family_first: 'ferra 1202 nicolo', name_key_given_first: 'nicolo ferra 1202' });
      assert.deepEqual(keys.filter((k) => !k.name_key_family_first || !k.name_key_given_first), [], 'every person has keys');
      // Down removes the columns and their indexes; up again computes them again.
      await migrateDown(db, 1);
      assert.deepEqual(await migrateUp(db), ['0017-person-name-keys']);
    } finally {
      await drop();
    }
  });

  it('on PostgreSQL, look only at their own schema, so a schema dropped meanwhile elsewhere cannot fail them', { skip: !onPostgres && 'PostgreSQL only' }, async () => {
    const mine = await pgTestSchema();
    const other = await pgTestSchema();
    try {
      await migrateUp(mine.db);
      await migrateUp(other.db);
      const tables = await mine.db.kysely.introspection.getTables();
      assert.ok(tables.some((t) => t.name === 'accounts'));
      assert.deepEqual([...new Set(tables.map((t) => t.schema))], [mine.schema]);
      // Another schema is dropped while this one migrates: the migration does not notice.
      await Promise.all([other.drop(), migrateUp(mine.db), migrateUp(mine.db)]);
      assert.equal(await migrationsApplied(mine.db), true);
    } finally {
      await mine.drop();
    }
  });
});
