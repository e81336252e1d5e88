import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, sessionToken } from '../mailboxes/helpers.js';

const PW = 'Vecchia-Pass1';

/**
 * A NUL (or another control character) sent where a single-line value, a message or a name is
 * expected: PostgreSQL cannot store or even compare a NUL, and such requests answered 500 there
 * (on SQLite they went on, a login counting a failure under the odd name). Each is now refused
 * with the field named, in the caller's language, on both databases, and nothing changes.
 */
describe('control characters at the boundaries', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await importOffices(t.app, OFFICES);
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DIP', username: 'luca.bianchi', email: 'luca.bianchi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
    assert.equal((await nameReferent(t.app, 'DIP-ISTR', 'luca.bianchi')).status, 200);
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S300', givenName: 'Elena', familyName: 'Sala', username: 'elena.sala', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'elena@example.net' });
  });
  after(() => t.close());

  it('a flow’s single-line input: 422 field.control_character, translated, the flow unchanged', async () => {
    const cases: Array<[kind: string, input: Record<string, unknown>, field: string, lang: string, text: RegExp]> = [
      ['login', { username: 'elena\u0000.sala', password: PW }, 'username', 'it', /carattere di controllo/],
      ['login', { username: 'elena.sala\u202e', password: PW }, 'username', 'en', /control character/],
      ['activation-password', { population: 'student', username: '2026\u00000001', currentPassword: 'x', newPassword: 'Nuova-Pass12', newPasswordConfirm: 'Nuova-Pass12' }, 'username', 'el', /χαρακτήρα ελέγχου/],
      ['password-reset', { identifier: 'elena\u0000@example.net' }, 'identifier', 'en', /control character/],
    ];
    for (const [kind, input, field, lang, text] of cases) {
      const c = apiClient(t.app, { lang });
      const started = (await c.start(kind)).body;
      const r = await c.submit(kind, started.id, input);
      assert.equal(r.status, 422, `${kind}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.fields[field], 'field.control_character', kind);
      assert.equal(r.body.state, started.state, kind);
      assert.match(r.body.messages.find((m: { field?: string }) => m.field === field).text, text, kind);
      assert.equal((await c.get(kind, started.id)).body.state, started.state, kind);
    }
    // No failure was counted under the name: the account signs in at once.
    const account = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/elena.sala', undefined, adminHeaders);
    assert.equal(account.body.signIn.failedAttempts, 0);
  });

  it('names written with the zero-width joiner or non-joiner (Persian, Indic scripts) are names, not control characters', async () => {
    const c = apiClient(t.app, { lang: 'en' });
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, {
      username: 'mehrdad.karimi',
      password: 'Lago-Maggiore-71',
      passwordConfirm: 'Lago-Maggiore-71',
      givenName: 'مهر\u200cداد',
      familyName: 'Karimi',
      birthDate: '1990-04-12',
      mobile: '+39 333 765 4321',
      email: 'mehrdad.karimi@example.org',
      consents: { privacy: true },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_verification');
    // A direction override is still refused in the same field.
    const g = (await c.start('registration')).body;
    const bad = await c.submit('registration', g.id, { username: 'other.name', password: 'Lago-Maggiore-71', passwordConfirm: 'Lago-Maggiore-71', givenName: 'Mehr\u202edad', familyName: 'Karimi', birthDate: '1990-04-12', mobile: '+39 333 765 4322', email: 'other.name@example.org', consents: { privacy: true } });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.fields.givenName, 'field.control_character');
  });

  it('a helpdesk ticket: the name and contact take none, the message only line breaks and tabs', async () => {
    const c = apiClient(t.app, { lang: 'it' });
    for (const [payload, field] of [
      [{ contact: 'elena@example.net', message: 'Aiuto\u0000' }, 'message'],
      [{ contact: 'elena@example.net', message: 'Aiuto \u202eoiggassem' }, 'message'],
      [{ contact: 'elena@example.net', name: 'Elena\u202e', message: 'Aiuto' }, 'name'],
      [{ contact: 'elena\u0000@example.net', message: 'Aiuto' }, 'contact'],
    ] as const) {
      const r = await c.request('POST', '/api/v1/tickets', payload);
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.error.fields[field], 'field.control_character');
      assert.equal(r.body.error.message, 'Alcuni campi non sono validi.');
    }
    const ok = await c.request('POST', '/api/v1/tickets', { contact: 'elena@example.net', name: 'Elena Sala', message: 'Non riesco ad accedere.\r\n\tGrazie 👩‍💻' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const listed = await apiClient(t.app).request('GET', '/api/v1/admin/tickets', undefined, adminHeaders);
    assert.deepEqual(
      listed.body.tickets.map((x: { id: string }) => x.id),
      [ok.body.id],
    );
  });

  it('a path segment holding one names nothing (404); an outbox page key holding one is a bad value', async () => {
    const admin = apiClient(t.app, { lang: 'el' });
    for (const [method, url] of [
      ['GET', '/api/v1/admin/accounts/elena%00.sala'],
      ['DELETE', '/api/v1/admin/accounts/elena%00.sala/lock'],
      ['POST', '/api/v1/admin/accounts/elena%00.sala/mailbox-link'],
      ['PUT', '/api/v1/admin/org-units/DIP%00-ISTR/referents/elena.sala'],
      ['DELETE', '/api/v1/admin/services/web%00mail'],
    ] as const) {
      const r = await admin.request(method, url, undefined, adminHeaders);
      assert.equal(r.status, 404, `${method} ${url}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.message, 'Δεν βρέθηκε.');
    }
    const page = await admin.request('GET', '/api/v1/admin/outbox?before=a%00b', undefined, adminHeaders);
    assert.equal(page.status, 422, JSON.stringify(page.body));
    assert.deepEqual(page.body.error.fields, { before: 'field.invalid' });
  });

  it('a mailbox request’s note and a referent’s reason: refused, the request still pending', async () => {
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'elena.sala', PW), lang: 'en' });
    const flow = (await me.start('mailbox-request')).body;
    const note = await me.submit('mailbox-request', flow.id, { note: 'urgent\u0000' });
    assert.equal(note.status, 422, JSON.stringify(note.body));
    assert.deepEqual(note.body.error.fields, { note: 'field.control_character' });
    assert.equal((await me.submit('mailbox-request', flow.id, { note: 'New colleague' })).body.state, 'awaiting_approval');

    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW), lang: 'it' });
    const pending = (await ref.request('GET', '/api/v1/referent/requests')).body.requests.find((r: { username: string }) => r.username === 'elena.sala');
    const rejected = await ref.request('POST', `/api/v1/referent/requests/${pending.id}/reject`, { comment: 'Manca\u0000 il contratto' });
    assert.equal(rejected.status, 422, JSON.stringify(rejected.body));
    assert.deepEqual(rejected.body.error.fields, { comment: 'field.control_character' });
    assert.equal(rejected.body.error.message, 'Alcuni campi non sono validi.');
    const still = (await ref.request('GET', '/api/v1/referent/requests')).body.requests.map((r: { username: string }) => r.username);
    assert.ok(still.includes('elena.sala'));
    // A reason of several lines is still one.
    const done = await ref.request('POST', `/api/v1/referent/requests/${pending.id}/reject`, { comment: 'Manca il contratto.\nRiprova a settembre.' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });
});
