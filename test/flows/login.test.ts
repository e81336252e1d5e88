import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

async function login(t: TestApp, username: string, password: string, opts: { ip?: string; lang?: string } = {}) {
  const c = apiClient(t.app, opts);
  const f = await c.start('login');
  return c.submit('login', f.body.id, { username, password });
}

describe('login, session and logout', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.login.maxFailuresPerAccount = 3;
        c.login.maxFailuresPerAddress = 8;
      }),
    });
    await seedAccount(t.ctx, { externalId: 'Mario.Rossi', status: 'active', password: 'Corretta-Pw1', email: 'mario.rossi@unidemo.example.org' });
    await seedAccount(t.ctx, { externalId: 'prov1', status: 'provisional', password: 'Corretta-Pw1' });
    await seedAccount(t.ctx, { externalId: 'susp1', status: 'suspended', password: 'Corretta-Pw1' });
  });
  after(() => t.close());

  it('logs in case-insensitively on the username, returns a session token and a cookie', async () => {
    const r = await login(t, 'MARIO.ROSSI', 'Corretta-Pw1');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'completed');
    assert.equal(r.body.result.username, 'Mario.Rossi');
    assert.match(r.body.result.sessionToken, /^[A-Za-z0-9_-]{40,}$/);
    const cookie = r.res.cookies.find((c: { name: string }) => c.name === 'tessera_session') as { httpOnly?: boolean; sameSite?: string; maxAge?: number; expires?: Date } | undefined;
    assert.ok(cookie?.httpOnly);
    assert.equal(cookie?.sameSite, 'Lax');
    // The lifetime is relative (the session's hours by the server's clock), so a browser whose
    // clock differs from the server's neither drops the cookie at once nor keeps it longer.
    assert.equal(cookie?.maxAge, t.ctx.config.login.sessionHours * 3600);
    assert.equal(cookie?.expires, undefined);
    // The token is never stored with the flow: reading the flow later does not reveal it.
    const again = await apiClient(t.app).get('login', r.body.id);
    assert.equal(again.body.result.sessionToken, undefined);
    // Bearer session.
    const s = await apiClient(t.app, { bearer: r.body.result.sessionToken }).request('GET', '/api/v1/session');
    assert.equal(s.status, 200);
    assert.deepEqual(s.body, { account: { username: 'Mario.Rossi', email: 'mario.rossi@unidemo.example.org', population: 'student', status: 'active' } });
    // Logout ends it.
    const d = await apiClient(t.app, { bearer: r.body.result.sessionToken }).request('DELETE', '/api/v1/session');
    assert.equal(d.status, 204);
    const s2 = await apiClient(t.app, { bearer: r.body.result.sessionToken }).request('GET', '/api/v1/session');
    assert.equal(s2.status, 401);
    assert.equal(s2.body.error.code, 'auth.unauthenticated');
  });

  it('answers auth.invalid_credentials for unknown user, wrong case of password, provisional and suspended accounts', async () => {
    for (const [u, p] of [['ghost', 'Corretta-Pw1'], ['mario.rossi', 'corretta-pw1'], ['prov1', 'Corretta-Pw1'], ['susp1', 'Corretta-Pw1']] as const) {
      const r = await login(t, u, p, { ip: `10.1.0.${u.length}`, lang: 'en' });
      assert.equal(r.status, 422, u);
      assert.equal(r.body.error.code, 'auth.invalid_credentials', u);
      assert.match(r.body.error.message, /case-sensitive/);
      assert.equal(r.body.messages[0].code, 'auth.invalid_credentials');
    }
  });

  it('locks an account after repeated failures, before computing any hash, and tells until when', async () => {
    await seedAccount(t.ctx, { externalId: 'lockme', status: 'active', password: 'Corretta-Pw1' });
    for (let i = 0; i < 3; i++) {
      const r = await login(t, 'lockme', 'wrong', { ip: `10.2.0.${i}` });
      assert.equal(r.body.error.code, 'auth.invalid_credentials');
    }
    const locked = await login(t, 'lockme', 'Corretta-Pw1', { ip: '10.2.0.99', lang: 'it' });
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'auth.account_locked');
    assert.match(locked.body.error.message, /bloccato fino al \d\d\/\d\d\/\d\d, \d\d:\d\d\./);
    // For programs: the end of the lock in ISO 8601 and the seconds to wait, also as Retry-After.
    const until = Date.parse(locked.body.error.params.lockedUntil);
    assert.ok(until > t.clock.now().getTime());
    assert.equal(locked.body.error.params.retryAfter, Math.ceil((until - t.clock.now().getTime()) / 1000));
    assert.equal(locked.res.headers['retry-after'], String(locked.body.error.params.retryAfter));
    // Unknown usernames lock the same way: a lock reveals nothing about existence.
    for (let i = 0; i < 3; i++) await login(t, 'nobody-here', 'x', { ip: `10.3.0.${i}` });
    assert.equal((await login(t, 'nobody-here', 'x', { ip: '10.3.0.50' })).body.error.code, 'auth.account_locked');
    // After the lock time the right password works again.
    t.clock.advance(16 * 60_000);
    const ok = await login(t, 'lockme', 'Corretta-Pw1', { ip: '10.2.0.100' });
    assert.equal(ok.status, 200);
    const audit = await t.ctx.db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'login.locked').execute();
    assert.ok(audit.length >= 1);
  });

  it('shows the helpdesk the lock, the failed attempts and the last sign-in, and lets it lift the lock', async () => {
    await seedAccount(t.ctx, { externalId: 'Helpme', status: 'active', password: 'Corretta-Pw1' });
    const admin = apiClient(t.app);
    const view = async () => (await admin.request('GET', '/api/v1/admin/accounts/helpme', undefined, adminHeaders)).body;
    assert.deepEqual((await view()).signIn, { lockedUntil: null, failedAttempts: 0, lastSucceededAt: null });
    assert.equal((await login(t, 'helpme', 'Corretta-Pw1', { ip: '10.5.0.1' })).status, 200);
    const signedInAt = t.clock.now().toISOString();
    t.clock.advance(60_000);
    for (let i = 0; i < 2; i++) await login(t, 'HELPME', 'wrong', { ip: `10.5.0.${10 + i}` });
    assert.deepEqual((await view()).signIn, { lockedUntil: null, failedAttempts: 2, lastSucceededAt: signedInAt });
    await login(t, 'helpme', 'wrong', { ip: '10.5.0.20' });
    const locked = (await view()).signIn;
    assert.equal(locked.lockedUntil, new Date(t.clock.now().getTime() + t.ctx.config.login.lockMinutes * 60_000).toISOString());
    assert.equal(locked.failedAttempts, 3);
    assert.equal((await login(t, 'helpme', 'Corretta-Pw1', { ip: '10.5.0.21' })).body.error.code, 'auth.account_locked');
    // Lifting the lock needs the administrator's token and an account that exists.
    assert.equal((await admin.request('DELETE', '/api/v1/admin/accounts/helpme/lock')).status, 401);
    const ghost = await admin.request('DELETE', '/api/v1/admin/accounts/nobody-here/lock', undefined, adminHeaders);
    assert.equal(ghost.status, 404);
    assert.equal(ghost.body.error.code, 'account.not_found');
    const lifted = await admin.request('DELETE', '/api/v1/admin/accounts/HelpMe/lock', undefined, adminHeaders);
    assert.equal(lifted.status, 204);
    const after = await view();
    assert.deepEqual(after.signIn, { lockedUntil: null, failedAttempts: 0, lastSucceededAt: signedInAt });
    assert.deepEqual(
      after.timeline.filter((e: { action: string }) => e.action === 'login.unlocked').map((e: { actor: string }) => e.actor),
      ['admin:bootstrap'],
    );
    assert.equal((await login(t, 'helpme', 'Corretta-Pw1', { ip: '10.5.0.22' })).status, 200);
  });

  it('limits failures per client address across usernames', async () => {
    for (let i = 0; i < 8; i++) await login(t, `spray${i}`, 'Password1', { ip: '10.9.9.9' });
    const r = await login(t, 'mario.rossi', 'Corretta-Pw1', { ip: '10.9.9.9' });
    assert.equal(r.body.error.code, 'auth.account_locked');
    const other = await login(t, 'mario.rossi', 'Corretta-Pw1', { ip: '10.9.9.10' });
    assert.equal(other.status, 200);
  });

  it('counts concurrent failures exactly (shared counters in the database)', async () => {
    await seedAccount(t.ctx, { externalId: 'race1', status: 'active', password: 'Corretta-Pw1' });
    await Promise.all(Array.from({ length: 2 }, (_, i) => login(t, 'race1', 'bad', { ip: `10.4.0.${i}` })));
    const row = await t.ctx.db.kysely.selectFrom('login_throttle').select('failures').where('key', '=', 'user:race1').executeTakeFirstOrThrow();
    assert.equal(row.failures, 2);
  });

  it('a burst of parallel attempts gets no more password checks than the limit', async () => {
    await seedAccount(t.ctx, { externalId: 'burst1', status: 'active', password: 'Corretta-Pw1' });
    const before = await t.ctx.db.kysely.selectFrom('audit_log').select('id').where('action', 'in', ['login.failed', 'login.locked']).execute();
    const lastId = Math.max(0, ...before.map((b) => Number(b.id)));
    // All flows first, then all the wrong passwords at once: each attempt takes its place before
    // any hash is computed, so at most maxFailuresPerAccount (3) of them are checked.
    const clients = Array.from({ length: 12 }, (_, i) => apiClient(t.app, { ip: `10.5.0.${i}` }));
    const flows = await Promise.all(clients.map((c) => c.start('login')));
    const answers = await Promise.all(clients.map((c, i) => c.submit('login', flows[i]!.body.id, { username: 'burst1', password: 'wrong' })));
    const checked = answers.filter((a) => a.body.error?.code === 'auth.invalid_credentials').length;
    const locked = answers.filter((a) => a.body.error?.code === 'auth.account_locked').length;
    assert.equal(checked, 3, 'three passwords checked');
    assert.equal(locked, 9, 'the others are refused as locked');
    // Each checked password is a failure, and the one lock is recorded once.
    const after = await t.ctx.db.kysely.selectFrom('audit_log').select('action').where('action', 'in', ['login.failed', 'login.locked']).where('id', '>', lastId).execute();
    assert.deepEqual(after.map((a) => a.action).sort(), ['login.failed', 'login.failed', 'login.failed', 'login.locked']);
    // A successful login gives its place back: the address's count does not grow with it.
    const c = apiClient(t.app, { ip: '10.6.0.1' });
    for (let i = 0; i < 10; i++) {
      const f = await c.start('login');
      assert.equal((await c.submit('login', f.body.id, { username: 'mario.rossi', password: 'Corretta-Pw1' })).status, 200);
    }
    const addr = await t.ctx.db.kysely.selectFrom('login_throttle').select('failures').where('key', '=', 'ip:10.6.0.1').executeTakeFirst();
    assert.equal(addr?.failures ?? 0, 0);
  });

  it('the right password for an account that may not sign in counts as no attempt; spent counters are swept', async () => {
    const c = apiClient(t.app, { ip: '10.8.0.1' });
    for (let i = 0; i < 5; i++) {
      const f = await c.start('login');
      assert.equal((await c.submit('login', f.body.id, { username: 'susp1', password: 'Corretta-Pw1' })).body.error.code, 'auth.invalid_credentials');
    }
    const rows = await t.ctx.db.kysely.selectFrom('login_throttle').select(['key', 'failures']).where('key', 'in', ['user:susp1', 'ip:10.8.0.1']).execute();
    assert.ok(rows.every((r) => r.failures === 0), JSON.stringify(rows));
    const { sweepThrottle } = await import('../../src/auth/throttle.js');
    const now = t.clock.now();
    await sweepThrottle(t.ctx.db.kysely, new Date(now.getTime() - 3_600_000), now);
    assert.equal((await t.ctx.db.kysely.selectFrom('login_throttle').select('key').where('key', '=', 'user:susp1').execute()).length, 1, 'a window still open is kept');
    t.clock.advance(2 * 3_600_000);
    const later = t.clock.now();
    assert.ok((await sweepThrottle(t.ctx.db.kysely, new Date(later.getTime() - 3_600_000), later)) >= 2);
    assert.equal((await t.ctx.db.kysely.selectFrom('login_throttle').select('key').where('key', '=', 'user:susp1').execute()).length, 0);
  });

  it('the same right password sent twice at once (a double click) costs the address nothing', async () => {
    const ip = '10.99.0.7';
    const c = apiClient(t.app, { ip });
    // More double submissions than the address may fail.
    for (let i = 0; i < 10; i++) {
      const f = await c.start('login');
      const [a, b] = await Promise.all([0, 1].map(() => c.submit('login', f.body.id, { username: 'mario.rossi', password: 'Corretta-Pw1' })));
      assert.deepEqual([a!.status, b!.status].sort(), [200, 409], `round ${i}: one completes, the other finds the step done`);
    }
    const counter = await t.ctx.db.kysely.selectFrom('login_throttle').select(['failures', 'locked_until']).where('key', '=', `ip:${ip}`).executeTakeFirst();
    assert.equal(counter?.failures ?? 0, 0, 'no place left taken on the address');
    assert.equal(counter?.locked_until ?? null, null);
    const r = await login(t, 'mario.rossi', 'Corretta-Pw1', { ip });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  it('validates input: missing fields are reported per field, in the language asked', async () => {
    const c = apiClient(t.app, { lang: 'el' });
    const f = await c.start('login');
    const r = await c.submit('login', f.body.id, { username: '' });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.error.fields, { username: 'field.required', password: 'field.required' });
    assert.match(r.body.messages.find((m: { field?: string }) => m.field === 'username').text, /υποχρεωτικό/);
  });

  it('answers 404 flow.not_found, 410 flow.expired and 409 flow.wrong_state', async () => {
    const c = apiClient(t.app);
    assert.equal((await c.get('login', 'x'.repeat(24))).body.error.code, 'flow.not_found');
    assert.equal((await c.request('POST', '/api/v1/flows/nonsense')).body.error.code, 'flow.unknown_kind');
    const f = await c.start('login');
    t.clock.advance(31 * 60_000);
    const exp = await c.submit('login', f.body.id, { username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.equal(exp.status, 410);
    assert.equal(exp.body.error.code, 'flow.expired');
    const f2 = await c.start('login');
    assert.equal((await c.submit('login', f2.body.id, { username: 'mario.rossi', password: 'Corretta-Pw1' })).status, 200);
    const again = await c.submit('login', f2.body.id, { username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'flow.wrong_state');
  });

  it('a flow started in a browser is not served by the API: its id alone drives nothing', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/login');
    const id = /^\/flows\/login\/([^/?]+)/.exec(b.url)![1]!;
    const c = apiClient(t.app);
    assert.equal((await c.get('login', id)).body.error.code, 'flow.not_found');
    const r = await c.submit('login', id, { username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'flow.not_found');
    assert.equal(r.body.result, undefined, 'no session token');
    // The browser itself still completes it.
    await b.submit({ username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.doesNotMatch(b.url, /^\/flows\/login\//);
  });

  it('refuses form-encoded posts to the JSON API (no cross-site form posts)', async () => {
    const c = apiClient(t.app);
    const f = await c.start('login');
    const r = await t.app.inject({
      method: 'POST',
      url: `/api/v1/flows/login/${f.body.id}`,
      payload: 'username=mario.rossi&password=Corretta-Pw1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.statusCode, 415);
    assert.equal(r.json().error.code, 'request.unsupported_media_type');
  });

  it('a change asked of the API with the session cookie from another site, even a sibling subdomain, is refused', async () => {
    const token = (await login(t, 'mario.rossi', 'Corretta-Pw1')).body.result.sessionToken as string;
    const signOut = (headers: Record<string, string>) => t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: `tessera_session=${token}`, ...headers } });
    for (const site of ['cross-site', 'same-site']) {
      const r = await signOut({ 'sec-fetch-site': site, 'accept-language': 'it' });
      assert.equal(r.statusCode, 403, site);
      assert.equal(r.json().error.code, 'auth.csrf', site);
      assert.ok(r.json().error.message.length > 0);
    }
    // Reading is not a change; the session is still there.
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: `tessera_session=${token}`, 'sec-fetch-site': 'cross-site' } });
    assert.equal(me.statusCode, 200);
    // Tessera's own pages, and programs (no such header, or a bearer token), go through.
    assert.equal((await signOut({ 'sec-fetch-site': 'same-origin' })).statusCode, 204);
    const other = (await login(t, 'mario.rossi', 'Corretta-Pw1')).body.result.sessionToken as string;
    assert.equal((await apiClient(t.app, { bearer: other }).request('DELETE', '/api/v1/session', undefined, { 'sec-fetch-site': 'cross-site' })).status, 204);
  });

  it('logs in and out in the browser without JavaScript, returning to the page asked for', async () => {
    // Straight to a login page that returns to the account: one redirect, not two.
    const first = await t.app.inject({ method: 'GET', url: '/account', headers: { accept: 'text/html' } });
    assert.equal(first.statusCode, 303);
    assert.match(String(first.headers.location), /^\/flows\/login\/[A-Za-z0-9_-]+$/);
    const b = new FormBrowser(t.app, 'en');
    await b.get('/account');
    assert.match(b.url, /^\/flows\/login\//);
    await b.submit({ username: 'mario.rossi', password: 'wrong' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /Invalid username or password/);
    await b.submit({ username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.equal(b.url, '/account');
    assert.match(b.text(), /mario\.rossi@unidemo\.example\.org/);
    // Logging out needs the session-bound token.
    const forged = await t.app.inject({
      method: 'POST',
      url: '/logout',
      payload: '_csrf=nope',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(forged.statusCode, 403);
    await b.submit({}, { formAction: /^\/logout$/ });
    await b.get('/account');
    assert.match(b.url, /^\/flows\/login\//);
  });

  it('the sign-in page leads to the password reset and the username recovery, after its form (it, en, el)', async () => {
    for (const [lang, forgot, username] of [
      ['it', 'Password dimenticata?', 'Recupera il nome utente'],
      ['en', 'Forgot your password?', 'Recover your username'],
      ['el', 'Ξεχάσατε τον κωδικό;', 'Ανάκτηση ονόματος χρήστη'],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/login');
      const main = /<main[\s\S]*<\/main>/.exec(b.html)![0];
      const form = main.indexOf('</form>');
      const reset = main.indexOf(`<a href="/flows/password-reset">${forgot}</a>`);
      const recover = main.indexOf(`<a href="/flows/username-recovery">${username}</a>`);
      assert.ok(reset > form, `the password reset link follows the form (${lang})`);
      assert.ok(recover > form, `the username recovery link follows the form (${lang})`);
    }
  });

  it('does not follow a return address to another site', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/login?return_to=//evil.example/x');
    await b.submit({ username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.equal(b.url, '/account');
    // Nor to one that dot segments turn into `//evil.example`.
    const b2 = new FormBrowser(t.app, 'en');
    await b2.get('/flows/login?return_to=/..//evil.example/x');
    await b2.submit({ username: 'mario.rossi', password: 'Corretta-Pw1' });
    assert.equal(b2.url, '/account');
  });
});

describe('login return addresses given twice', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('a return address given twice is no return address, not a server error', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/flows/login?return_to=/account&return_to=//evil.example', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/flows\/login\/[A-Za-z0-9_-]+$/);
    const api = await apiClient(t.app).start('login', '?return_to=/account&return_to=/account');
    assert.equal(api.status, 201);
    assert.equal(api.body.data.returnTo, undefined);
  });
});

describe('login at an institution in another time zone', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.login.maxFailuresPerAccount = 1;
        c.institution.timeZone = 'Europe/Athens';
      }),
    });
    await seedAccount(t.ctx, { externalId: 'athens1', status: 'active', password: 'Corretta-Pw1' });
  });
  after(() => t.close());

  it('tells the end of a lock in the institution\'s time', async () => {
    assert.equal((await login(t, 'athens1', 'wrong', { ip: '10.8.0.1' })).body.error.code, 'auth.invalid_credentials');
    const locked = await login(t, 'athens1', 'Corretta-Pw1', { ip: '10.8.0.2', lang: 'en' });
    assert.equal(locked.body.error.code, 'auth.account_locked');
    const until = new Date(locked.body.error.params.lockedUntil);
    const athens = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short', timeZone: 'Europe/Athens' }).format(until);
    const rome = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short', timeZone: 'Europe/Rome' }).format(until);
    assert.notEqual(athens, rome);
    assert.ok(locked.body.error.message.includes(athens), locked.body.error.message);
    assert.ok(!locked.body.error.message.includes(rome), locked.body.error.message);
  });
});

describe('login behind a balancer (TRUST_PROXY=true)', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ env: { TRUST_PROXY: 'true' }, config: testConfig((c) => (c.login.maxFailuresPerAddress = 3)) });
  });
  after(() => t.close());

  // The balancer (10.0.0.1) appends the address it sees to whatever X-Forwarded-For the client sent.
  const viaBalancer = async (client: string, claimed: string, username: string) => {
    const c = apiClient(t.app, { ip: '10.0.0.1' });
    const f = await c.start('login');
    return c.submit('login', f.body.id, { username, password: 'wrong' }, { 'x-forwarded-for': `${claimed}, ${client}` });
  };

  it('counts failures by the address the balancer saw, not by one the client made up', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await viaBalancer('203.0.113.7', `198.51.100.${i}`, `nobody${i}`)).status, 422);
    const r = await viaBalancer('203.0.113.7', '198.51.100.99', 'nobody99');
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'auth.account_locked');
    // Another client behind the same balancer is not locked out.
    assert.equal((await viaBalancer('203.0.113.8', '203.0.113.7', 'nobody100')).status, 422);
  });
});
