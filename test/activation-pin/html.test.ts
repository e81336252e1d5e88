import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAccountByUsername } from '../../src/accounts/repository.js';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { lastPinFor, makeAmka, seedStudent } from './helpers.js';

describe('activation-pin through HTML forms (no JavaScript)', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.institution.defaultCountry = 'GR')) });
  });
  after(() => t.close());

  it('activates in Greek, picking a suggested password', async () => {
    await seedStudent(t.ctx, { externalId: 'S4001', mobile: '+306912345001', email: 'maria@example.gr' });
    const b = new FormBrowser(t.app, 'el');
    await b.get('/flows/activation-pin');
    assert.equal(b.status, 200);
    assert.match(b.text(), /Κινητό τηλέφωνο/);
    await b.submit({ mobile: '6912345001', email: '' });
    assert.equal(b.status, 200);
    assert.match(b.text(), /Καταχώρηση PIN/);
    assert.match(b.text(), /\+30 69\*\* \*\*\* \*01/);
    // Resend is a secondary button; too soon at first.
    await b.submit({}, { action: 'resend' });
    assert.equal(b.status, 429);
    assert.match(b.text(), /Υποβολή αιτήματος στην τεχνική υποστήριξη/);
    await b.submit({ pin: '000000' === (await lastPinFor(t.app, '+306912345001')) ? '111111' : '000000' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /Ο κωδικός PIN δεν είναι σωστός|PIN/);
    assert.ok(!b.html.includes('value="000000"'), 'a PIN is never echoed back');
    await b.submit({ pin: await lastPinFor(t.app, '+306912345001') });
    assert.match(b.text(), /Α\.Μ\.Κ\.Α\./);
    await b.submit({}, { action: 'use_insurance' });
    assert.match(b.text(), /Χώρα ασφάλισης/);
    assert.match(b.html, /<option value="CY">Κύπρος<\/option>/);
    await b.submit({}, { action: 'use_amka' });
    // A wrong AMKA: what went wrong and the field to correct, in one alert region.
    await b.submit({ amka: '12345678901' });
    assert.equal(b.status, 422);
    assert.equal(b.html.match(/role="alert"/g)?.length, 1, 'one alert');
    const summary = /<div class="error-summary"[^>]*role="alert"[\s\S]*?<\/div>/.exec(b.html)?.[0] ?? '';
    assert.match(summary, /<p class="error-lead">/);
    assert.match(summary, /href="#f-amka"/);
    await b.submit({ amka: makeAmka('240499') });
    assert.match(b.text(), /S4001/);
    assert.match(b.text(), /Συμφωνώ/);
    await b.submit({ 'consents.directory': 'true' });
    assert.equal(b.status, 422, 'data must be confirmed');
    await b.submit({ 'consents.directory': 'true', dataAccurate: 'true' });
    assert.match(b.text(), /Ορισμός κωδικού πρόσβασης/);
    const suggestion = /name="suggestion" value="([^"]+)"/.exec(b.html)?.[1];
    assert.ok(suggestion);
    await b.submit({ suggestion });
    assert.equal(b.status, 200);
    assert.match(b.text(), /Ο λογαριασμός σας ενεργοποιήθηκε/);
    assert.match(b.text(), /s4001@studenti\.unidemo\.example\.org/);
    assert.ok(!b.html.includes(suggestion), 'the result page does not show the password');
    assert.equal((await findAccountByUsername(t.ctx.db.kysely, 'S4001'))!.status, 'active');
    const consent = await t.ctx.db.kysely.selectFrom('consent_records').select(['consent_id', 'granted', 'version', 'locale']).orderBy('consent_id').execute();
    assert.deepEqual(consent, [
      { consent_id: 'directory', granted: 1, version: '2026-09', locale: 'el' },
      { consent_id: 'newsletter', granted: 0, version: '2026-09', locale: 'el' },
    ]);
  });

  it('a failure page links to a prefilled helpdesk ticket, without secrets', async () => {
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/activation-pin');
    await b.submit({ mobile: '+306900009999', email: '' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /Nessun utente trovato/);
    const href = /href="(\/helpdesk\/tickets\/new\?[^"]+)"/.exec(b.html)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(href, 'ticket link present');
    const q = new URL(href, 'http://x').searchParams;
    assert.equal(q.get('flow'), 'activation-pin');
    assert.equal(q.get('state'), 'awaiting_contact');
    assert.equal(q.get('code'), 'activation.no_match');
    assert.ok(q.get('reference'));
    assert.ok(q.get('time'));
    assert.equal(q.get('contact'), '+306900009999');
    assert.ok(![...q.keys()].some((k) => /pin|password|id$/.test(k)));
    await b.get(href);
    assert.equal(b.status, 200);
    assert.match(b.text(), /Nessun utente trovato/);
    // A browser posts the form's hidden context fields as well.
    const hidden = Object.fromEntries([...b.html.matchAll(/<input[^>]*type="hidden"[^>]*name="(\w+)"[^>]*value="([^"]*)"/g)].filter((m) => m[1] !== '_csrf').map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
    assert.equal(hidden.code, 'activation.no_match');
    await b.submit({ ...hidden, message: '' }, { formAction: /helpdesk/ });
    assert.equal(b.status, 422);
    await b.submit({ ...hidden, contact: '+306900009999', message: 'Il mio numero non viene trovato' }, { formAction: /helpdesk/ });
    assert.equal(b.status, 201);
    const id = /T-[A-Z0-9]+/.exec(b.text())?.[0];
    assert.ok(id);
    const list = await apiClient(t.app).request('GET', '/api/v1/admin/tickets', undefined, adminHeaders);
    const ticket = list.body.tickets.find((x: any) => x.id === id);
    assert.equal(ticket.flow, 'activation-pin');
    assert.equal(ticket.state, 'awaiting_contact');
    assert.equal(ticket.code, 'activation.no_match');
    assert.equal(ticket.reference, q.get('reference'));
  });

  it('an active account is pointed to login and password recovery', async () => {
    await seedStudent(t.ctx, { externalId: 'S4002', mobile: '+306912345002', email: null, status: 'active' });
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/activation-pin');
    await b.submit({ mobile: '+306912345002', email: '' });
    assert.equal(b.status, 409);
    assert.match(b.text(), /already active/);
    assert.match(b.html, /href="\/flows\/login"/);
    assert.match(b.html, /href="\/flows\/password-reset"/);
  });

  it('the error page (expired flow) links to a ticket too', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/activation-pin');
    const url = b.url;
    t.clock.advance(31 * 60_000);
    await b.get(url);
    assert.equal(b.status, 410);
    assert.match(b.html, /href="\/helpdesk\/tickets\/new\?flow=activation-pin&amp;code=flow.expired/);
  });

  it('shows kept messages at /dev/outbox outside production', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/dev/outbox');
    assert.equal(b.status, 200);
    assert.match(b.text(), /activation_pin/);
    assert.match(b.text(), /PIN ενεργοποίησης: \d{6}/);
    // A Greek message on an English page is marked as Greek (WCAG 3.1.2, language of parts).
    assert.match(b.html, /<pre lang="el">[^<]*PIN ενεργοποίησης/);
  });
});

describe('development outbox in production', () => {
  it('is never there', async () => {
    const t = await makeApp({ env: { NODE_ENV: 'production' } });
    try {
      assert.equal((await t.app.inject({ method: 'GET', url: '/dev/outbox' })).statusCode, 404);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/dev/outbox' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
