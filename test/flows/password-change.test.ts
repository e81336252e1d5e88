import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

async function loginToken(t: TestApp, username: string, password: string): Promise<string> {
  const c = apiClient(t.app);
  const f = await c.start('login');
  const r = await c.submit('login', f.body.id, { username, password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.result.sessionToken as string;
}

describe('password change', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedAccount(t.ctx, { externalId: 'anna', status: 'active', password: 'Vecchia-Pw1' });
  });
  after(() => t.close());

  it('needs a session', async () => {
    const r = await apiClient(t.app).start('password-change');
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'flow.session_required');
  });

  it('changes the password, ends the other sessions and keeps the current one', async () => {
    const mine = await loginToken(t, 'anna', 'Vecchia-Pw1');
    const other = await loginToken(t, 'anna', 'Vecchia-Pw1');
    const c = apiClient(t.app, { bearer: mine });
    const f = await c.start('password-change');
    assert.equal(f.status, 201);
    const wrong = await c.submit('password-change', f.body.id, { currentPassword: 'nope', newPassword: 'Nuova-Pw-22', newPasswordConfirm: 'Nuova-Pw-22' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error.code, 'auth.invalid_credentials');
    assert.deepEqual(wrong.body.error.fields, { currentPassword: 'auth.invalid_credentials' });
    const weak = await c.submit('password-change', f.body.id, { currentPassword: 'Vecchia-Pw1', newPassword: 'anna2026A', newPasswordConfirm: 'anna2026A' });
    assert.equal(weak.body.error.code, 'password.policy');
    const same = await c.submit('password-change', f.body.id, { currentPassword: 'Vecchia-Pw1', newPassword: 'Vecchia-Pw1', newPasswordConfirm: 'Vecchia-Pw1' });
    assert.equal(same.status, 422);
    assert.equal(same.body.error.code, 'password.same_as_current');
    const ok = await c.submit('password-change', f.body.id, { currentPassword: 'Vecchia-Pw1', newPassword: 'Nuova-Pw-22', newPasswordConfirm: 'Nuova-Pw-22' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.result, { username: 'anna' });
    assert.equal((await apiClient(t.app, { bearer: mine }).request('GET', '/api/v1/session')).status, 200);
    assert.equal((await apiClient(t.app, { bearer: other }).request('GET', '/api/v1/session')).status, 401);
    await loginToken(t, 'anna', 'Nuova-Pw-22');
  });

  it('a wrong current password is said as such on its field, not as a wrong username (it, en, el)', async () => {
    await seedAccount(t.ctx, { externalId: 'elena', status: 'active', password: 'Elena-Pw-77' });
    for (const [lang, said] of [
      ['it', 'La password attuale non è corretta. Controlla maiuscole e minuscole: la password le distingue.'],
      ['en', 'Your current password is not correct. Check upper and lower case: passwords are case-sensitive.'],
      ['el', 'Ο τρέχων κωδικός δεν είναι σωστός. Ελέγξτε πεζά και κεφαλαία: ο κωδικός κάνει διάκριση.'],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/password-change');
      await b.submit({ username: 'elena', password: 'Elena-Pw-77' });
      await b.submit({ currentPassword: 'Not-Mine-11', newPassword: 'Bosco-Verde-88', newPasswordConfirm: 'Bosco-Verde-88' });
      assert.equal(b.status, 422);
      assert.match(b.html, new RegExp(`<a href="#f-currentPassword">[^<]*: ${said.replace(/\./g, '\\.')}</a>`));
      assert.match(b.html, new RegExp(`<p class="field-error" id="f-currentPassword-err0"><span class="visually-hidden">[^<]*</span>${said.replace(/\./g, '\\.')}</p>`));
      // Nothing on the page speaks of a username the person never typed here.
      assert.doesNotMatch(b.text(), /credenziali|username or password|όνομα χρήστη ή κωδικός/i);
    }
    // The API keeps its codes; the flow's message on the field is the same sentence.
    const c = apiClient(t.app, { bearer: await loginToken(t, 'elena', 'Elena-Pw-77'), lang: 'en' });
    const f = await c.start('password-change');
    const wrong = await c.submit('password-change', f.body.id, { currentPassword: 'Not-Mine-11', newPassword: 'Bosco-Verde-88', newPasswordConfirm: 'Bosco-Verde-88' });
    assert.equal(wrong.body.error.code, 'auth.invalid_credentials');
    assert.deepEqual(wrong.body.error.fields, { currentPassword: 'auth.invalid_credentials' });
    assert.deepEqual(
      wrong.body.messages.map((m: { field?: string; text: string }) => [m.field, m.text]),
      [['currentPassword', 'Your current password is not correct. Check upper and lower case: passwords are case-sensitive.']],
    );
  });

  it('a flow belongs to its session: another account cannot drive it', async () => {
    await seedAccount(t.ctx, { externalId: 'bruno', status: 'active', password: 'Bruno-Pw-33' });
    const annas = await loginToken(t, 'anna', 'Nuova-Pw-22');
    const brunos = await loginToken(t, 'bruno', 'Bruno-Pw-33');
    const f = await apiClient(t.app, { bearer: annas }).start('password-change');
    const r = await apiClient(t.app, { bearer: brunos }).submit('password-change', f.body.id, { currentPassword: 'Bruno-Pw-33', newPassword: 'Hijack-Pw-44', newPasswordConfirm: 'Hijack-Pw-44' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'auth.forbidden');
  });

  // Apps show the envelope's message: it said "Invalid username or password" for a form that has
  // no username, where the field's own message (and the page) say the current password is wrong.
  it('a wrong current password: the error message says so, in each language, as the field does', async () => {
    await seedAccount(t.ctx, { externalId: 'elio', status: 'active', password: 'Vecchia-Pw1' });
    for (const [lang, text] of [
      ['en', 'Your current password is not correct. Check upper and lower case: passwords are case-sensitive.'],
      ['it', 'La password attuale non è corretta. Controlla maiuscole e minuscole: la password le distingue.'],
      ['el', 'Ο τρέχων κωδικός δεν είναι σωστός. Ελέγξτε πεζά και κεφαλαία: ο κωδικός κάνει διάκριση.'],
    ] as const) {
      const c = apiClient(t.app, { bearer: await loginToken(t, 'elio', 'Vecchia-Pw1'), lang });
      const f = await c.start('password-change');
      const wrong = await c.submit('password-change', f.body.id, { currentPassword: 'nope', newPassword: 'Nuova-Pw-22', newPasswordConfirm: 'Nuova-Pw-22' });
      assert.equal(wrong.status, 422);
      assert.equal(wrong.body.error.code, 'auth.invalid_credentials');
      assert.equal(wrong.body.error.message, text);
      assert.deepEqual(
        wrong.body.messages.map((m: { field?: string; text: string }) => [m.field, m.text]),
        [['currentPassword', text]],
      );
    }
    // A sign-in keeps the general wording: it has a username.
    const login = apiClient(t.app);
    const f = await login.start('login');
    const r = await login.submit('login', f.body.id, { username: 'elio', password: 'nope' });
    assert.equal(r.body.error.message, 'Invalid username or password. Check upper and lower case: passwords are case-sensitive.');
  });

  it('works in the browser: signed-out visitors are sent to login first', async () => {
    await seedAccount(t.ctx, { externalId: 'carla', status: 'active', password: 'Carla-Pw-55' });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/password-change');
    assert.match(b.url, /^\/flows\/login\//);
    await b.submit({ username: 'carla', password: 'Carla-Pw-55' });
    assert.match(b.url, /^\/flows\/password-change\//);
    assert.match(b.text(), /Cambia la password/);
    await b.submit({ currentPassword: 'Carla-Pw-55', newPassword: 'Bianchi-Nuova-66', newPasswordConfirm: 'Bianchi-Nuova-67' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /Le due password non coincidono/);
    await b.submit({ currentPassword: 'Carla-Pw-55', newPassword: 'Bianchi-Nuova-66', newPasswordConfirm: 'Bianchi-Nuova-66' });
    assert.match(b.text(), /Password cambiata/);
  });

  it('a form sent after signing out (in another tab): the page offers to sign in and come back', async () => {
    await seedAccount(t.ctx, { externalId: 'dario', status: 'active', password: 'Dario-Pw-55' });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/password-change');
    await b.submit({ username: 'dario', password: 'Dario-Pw-55' });
    assert.match(b.url, /^\/flows\/password-change\//);
    const form = b.html;
    b.cookies.delete('tessera_session');
    b.html = form;
    await b.submit({ currentPassword: 'Dario-Pw-55', newPassword: 'Bianchi-Nuova-66', newPasswordConfirm: 'Bianchi-Nuova-66' });
    assert.equal(b.status, 401);
    assert.match(b.text(), /Accedi prima di continuare/);
    assert.match(b.html, /<a class="button primary" href="\/flows\/password-change">Accedi<\/a>/);
  });
});
