import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser, adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

describe('activation with the enrolment password', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const good = { population: 'student', newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42' };

  it('activates a student (bcrypt enrolment hash), assigns the address and discards the legacy hash', async () => {
    const legacy = bcrypt.hashSync('Enrol-2026', 4);
    await seedAccount(t.ctx, { externalId: '20261234', passwordHash: legacy });
    const c = apiClient(t.app);
    const flow = (await c.start('activation-password')).body;
    assert.equal(flow.state, 'awaiting_credentials');
    assert.deepEqual(
      flow.fields.map((f: { name: string }) => f.name),
      ['population', 'username', 'currentPassword', 'newPassword', 'newPasswordConfirm'],
    );
    const r = await c.submit('activation-password', flow.id, { ...good, username: '20261234', currentPassword: 'Enrol-2026' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'completed');
    assert.deepEqual(r.body.result, { username: '20261234', email: '20261234@studenti.unidemo.example.org', status: 'active' });
    const row = await t.ctx.db.kysely.selectFrom('accounts').selectAll().where('username_lower', '=', '20261234').executeTakeFirstOrThrow();
    assert.equal(row.status, 'active');
    assert.match(row.password_hash!, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(row.password_hash, legacy);
    // The new password logs in; the enrolment password no longer does.
    const login = await c.start('login');
    const ok = await c.submit('login', login.body.id, { username: '20261234', password: 'Nuova-Strada42' });
    assert.equal(ok.status, 200);
    const login2 = await c.start('login');
    const old = await c.submit('login', login2.body.id, { username: '20261234', password: 'Enrol-2026' });
    assert.equal(old.body.error.code, 'auth.invalid_credentials');
    // The timeline records the activation.
    const acc = await c.request('GET', '/api/v1/admin/accounts/20261234', undefined, adminHeaders);
    const actions = acc.body.timeline.map((e: { action: string }) => e.action);
    assert.ok(actions.includes('account.status_changed') && actions.includes('account.activated'), actions.join());
  });

  it('accepts {SSHA} and argon2 enrolment hashes', async () => {
    await seedAccount(t.ctx, { externalId: 'S1', passwordHash: ssha('Legacy-pass9') });
    const c = apiClient(t.app);
    const f = (await c.start('activation-password')).body;
    const r = await c.submit('activation-password', f.id, { ...good, username: 's1', currentPassword: 'Legacy-pass9' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.result.email, 's1@studenti.unidemo.example.org');
  });

  it('answers auth.invalid_credentials for a provisional record, a wrong password and an unknown user alike', async () => {
    await seedAccount(t.ctx, { externalId: 'P1', status: 'provisional', registrarStatus: 'provisional', password: 'Enrol-2026' });
    await seedAccount(t.ctx, { externalId: 'W1', password: 'Enrol-2026' });
    const c = apiClient(t.app, { lang: 'it', ip: '10.0.0.9' });
    for (const [username, pw] of [['P1', 'Enrol-2026'], ['W1', 'enrol-2026'], ['nobody', 'Enrol-2026']] as const) {
      const f = (await c.start('activation-password')).body;
      const r = await c.submit('activation-password', f.id, { ...good, username, currentPassword: pw });
      assert.equal(r.status, 422, username);
      assert.equal(r.body.error.code, 'auth.invalid_credentials');
      assert.equal(r.body.state, 'awaiting_credentials');
      assert.match(r.body.error.message, /credenziali specificate non sono valide/);
      assert.deepEqual(Object.keys(r.body.error.fields), []);
    }
    const p1 = await t.ctx.db.kysely.selectFrom('accounts').select('status').where('username_lower', '=', 'p1').executeTakeFirstOrThrow();
    assert.equal(p1.status, 'provisional');
  });

  it('enforces the password policy and the confirmation, in the caller’s language', async () => {
    await seedAccount(t.ctx, { externalId: 'QZ71', password: 'Enrol-2026' });
    const c = apiClient(t.app, { lang: 'el' });
    const f = (await c.start('activation-password')).body;
    const cases: Array<[string, string, string]> = [
      ['short1A', 'short1A', 'password.policy'],
      ['alllowercase1', 'alllowercase1', 'password.policy'],
      ['NoDigitsHere', 'NoDigitsHere', 'password.policy'],
      ['Password1', 'Password1', 'password.policy'],
      ['Myqz71secret9X', 'Myqz71secret9X', 'password.policy'],
      ['Good-Pass-77', 'Good-Pass-78', 'password.mismatch'],
      // "Una password nuova": the enrolment password itself (it passes the policy) is refused.
      ['Enrol-2026', 'Enrol-2026', 'password.same_as_current'],
    ];
    for (const [p, c2, code] of cases) {
      const r = await c.submit('activation-password', f.id, { population: 'student', username: 'QZ71', currentPassword: 'Enrol-2026', newPassword: p, newPasswordConfirm: c2 });
      assert.equal(r.status, 422, p);
      assert.equal(r.body.error.code, code, p);
    }
    const same = await c.submit('activation-password', f.id, { population: 'student', username: 'QZ71', currentPassword: 'Enrol-2026', newPassword: 'Enrol-2026', newPasswordConfirm: 'Enrol-2026' });
    assert.deepEqual(same.body.error.fields, { newPassword: 'password.same_as_current' });
    assert.match(same.body.error.message, /διαφορετικό/);
    const r = await c.submit('activation-password', f.id, { population: 'student', username: 'QZ71', currentPassword: 'Enrol-2026', newPassword: 'x', newPasswordConfirm: 'x' });
    assert.ok(r.body.messages.some((m: { text: string }) => /χαρακτήρες/.test(m.text)), JSON.stringify(r.body.messages));
  });

  it('refuses a second activation: concurrent submissions succeed exactly once', async () => {
    await seedAccount(t.ctx, { externalId: 'R1', password: 'Enrol-2026' });
    const c = apiClient(t.app);
    const f = (await c.start('activation-password')).body;
    const input = { ...good, username: 'R1', currentPassword: 'Enrol-2026' };
    const results = await Promise.all(Array.from({ length: 5 }, () => c.submit('activation-password', f.id, input)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => `${r.status}:${r.body.error?.code}`).join(','));
    for (const r of results.filter((x) => x.status !== 200)) assert.ok(['flow.wrong_state', 'auth.invalid_credentials', 'activation.already_active'].includes(r.body.error.code), r.body.error.code);
    const audits = await t.ctx.db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'account.activated').where('details', 'like', '%r1@%').execute();
    assert.equal(audits.length, 1);
  });

  it('several flows activating the same account at once: one activates, the others get a clean 409', async () => {
    await seedAccount(t.ctx, { externalId: 'R2', password: 'Enrol-2026' });
    const c = apiClient(t.app);
    const flows = await Promise.all(Array.from({ length: 4 }, () => c.start('activation-password')));
    const input = { ...good, username: 'R2', currentPassword: 'Enrol-2026' };
    const results = await Promise.all(flows.map((f) => c.submit('activation-password', f.body.id, input)));
    const summary = results.map((r) => `${r.status}:${r.body.error?.code ?? r.body.state}`).join(',');
    assert.equal(results.filter((r) => r.status === 200).length, 1, summary);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 409, summary);
      assert.ok(['activation.already_active', 'account.changed'].includes(r.body.error.code), summary);
      assert.ok(r.body.error.message.length > 0);
    }
  });

  it('resolves address collisions with a suffix', async () => {
    await seedAccount(t.ctx, { externalId: 'X9', population: 'staff', username: 'someone', email: 'c1@studenti.unidemo.example.org', status: 'active', password: 'Whatever-1' });
    await seedAccount(t.ctx, { externalId: 'C1', password: 'Enrol-2026' });
    const c = apiClient(t.app);
    const f = (await c.start('activation-password')).body;
    const r = await c.submit('activation-password', f.id, { ...good, username: 'C1', currentPassword: 'Enrol-2026' });
    assert.equal(r.body.result.email, 'c12@studenti.unidemo.example.org');
  });

  it('works in the browser without JavaScript (Italian), with CSRF binding', async () => {
    await seedAccount(t.ctx, { externalId: 'B1', password: 'Enrol-2026' });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/activation-password');
    assert.equal(b.status, 200);
    assert.match(b.text(), /Attiva il tuo account/);
    // A wrong password re-renders the form with the message and keeps the username.
    await b.submit({ population: 'student', username: 'B1', currentPassword: 'nope', newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /Le credenziali specificate non sono valide/);
    assert.match(b.html, /value="B1"/);
    assert.doesNotMatch(b.html, /Nuova-Strada42/);
    // A forged CSRF token is refused and changes nothing.
    const flowUrl = /action="(\/flows\/activation-password\/[^"]+)"/.exec(b.html)![1]!;
    const forged = await t.app.inject({
      method: 'POST',
      url: flowUrl,
      payload: 'population=student&username=B1&currentPassword=Enrol-2026&newPassword=Nuova-Strada42&newPasswordConfirm=Nuova-Strada42&_csrf=forged',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(forged.statusCode, 403);
    await b.submit({ population: 'student', username: 'B1', currentPassword: 'Enrol-2026', newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42' });
    assert.equal(b.status, 200);
    assert.match(b.text(), /Il tuo account è attivo/);
    assert.match(b.text(), /b1@studenti\.unidemo\.example\.org/);
  });
});
