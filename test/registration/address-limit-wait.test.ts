import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../src/errors/app-error.js';
import { takeAddressPlace } from '../../src/flows/registration/limits.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { details } from './outbox.js';

const MINUTE = 60_000;

/** The registrations of one address an hour: the refusal says how long to wait, from the server's clock. */
describe('registration limits: the wait of a client address that used up its hour', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.registration.registrationsPerAddressPerHour = 2)) });
  });
  after(() => t.close());

  const register = async (ip: string, n: string, lang = 'en') => {
    const c = apiClient(t.app, { ip, lang });
    const f = (await c.start('registration')).body;
    return c.submit('registration', f.id, details({ username: `wait.${n}`, email: `wait.${n}@example.net` }));
  };
  const accounts = async () => (await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', 'like', 'wait.%').execute()).length;

  it('JSON API: params.seconds and Retry-After count down to the end of the hour of the first counted registration; the message says it in minutes', async () => {
    const ip = '203.0.113.40';
    assert.equal((await register(ip, 'a')).status, 200);
    t.clock.advance(10 * MINUTE);
    assert.equal((await register(ip, 'b')).status, 200);
    t.clock.advance(15 * MINUTE);
    // 25 minutes after the first: 35 minutes left, in each language.
    for (const [lang, said] of [
      ['it', 'Nell’ultima ora sono state fatte troppe registrazioni dalla tua rete. Riprova tra 35 minuti.'],
      ['en', 'Too many registrations have been made from your network in the last hour. Please try again in 35 minutes.'],
      ['el', 'Έγιναν πάρα πολλές εγγραφές από το δίκτυό σας την τελευταία ώρα. Δοκιμάστε ξανά σε 35 λεπτά.'],
    ] as const) {
      const r = await register(ip, `c.${lang}`, lang);
      assert.equal(r.status, 429, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'registration.too_many_registrations');
      assert.equal(r.body.error.params.seconds, 35 * 60);
      assert.equal(r.res.headers['retry-after'], '2100');
      assert.equal(r.body.error.message, said);
      assert.ok(r.body.messages.some((m: { text: string }) => m.text === said), JSON.stringify(r.body.messages));
      assert.equal(r.body.state, 'awaiting_details');
    }
    // Seconds before the hour ends: at least a minute said, the exact seconds sent.
    t.clock.advance(35 * MINUTE - 20_000);
    let r = await register(ip, 'd');
    assert.equal(r.status, 429);
    assert.equal(r.body.error.params.seconds, 20);
    assert.equal(r.res.headers['retry-after'], '20');
    assert.match(r.body.error.message, /Please try again in 1 minute\.$/);
    // The very end of the hour still counts (at least a second); just after it, a new hour begins.
    t.clock.advance(20_000);
    r = await register(ip, 'e');
    assert.equal(r.status, 429);
    assert.equal(r.body.error.params.seconds, 1);
    assert.equal(r.res.headers['retry-after'], '1');
    t.clock.advance(1000);
    assert.equal((await register(ip, 'f')).status, 200);
    assert.equal(await accounts(), 3, 'nothing was created by the refusals');
  });

  it('the page (a form, no JavaScript): the same status, Retry-After and wait in the page’s language, the form shown again', async () => {
    // The form browser comes from 127.0.0.1.
    assert.equal((await register('127.0.0.1', 'g')).status, 200);
    t.clock.advance(20 * MINUTE);
    assert.equal((await register('127.0.0.1', 'h')).status, 200);
    t.clock.advance(2 * MINUTE + 30_000);
    const b = new FormBrowser(t.app, 'el');
    await b.get('/flows/registration');
    const { consents: _json, ...d } = details({ username: 'wait.form', email: 'wait.form@example.net' });
    await b.submit({ ...d, consents: 'true', registrantType: 'person' });
    assert.equal(b.status, 429);
    assert.equal(b.headers['retry-after'], String(37 * 60 + 30));
    assert.ok(b.text().includes('Δοκιμάστε ξανά σε 38 λεπτά.'), b.text());
    assert.match(b.html, /name="username"[^>]*value="wait.form"|value="wait.form"[^>]*name="username"/);
    assert.equal((await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'wait.form').executeTakeFirst()), undefined);
  });

  it('the refusal inside the transaction (a registration that passed the first check) carries the same wait', async () => {
    const ip = '203.0.113.41';
    assert.equal((await register(ip, 'i')).status, 200);
    t.clock.advance(5 * MINUTE);
    assert.equal((await register(ip, 'j')).status, 200);
    t.clock.advance(MINUTE);
    await assert.rejects(
      t.ctx.db.kysely.transaction().execute((tx) => takeAddressPlace(t.ctx, tx, ip, 'it')),
      (e: AppError) => {
        assert.equal(e.code, 'registration.too_many_registrations');
        assert.equal(e.status, 429);
        assert.deepEqual(e.opts.params, { seconds: 54 * 60, wait: '54 minuti' });
        assert.deepEqual(e.opts.headers, { 'retry-after': String(54 * 60) });
        return true;
      },
    );
  });

  it('registrations sent together from one address: each refused one says the wait, in the envelope and the header', async () => {
    const ip = '203.0.113.42';
    const started = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const c = apiClient(t.app, { ip });
        return { c, f: (await c.start('registration')).body, i };
      }),
    );
    const answers = await Promise.all(started.map(({ c, f, i }) => c.submit('registration', f.id, details({ username: `wait.burst${i}`, email: `wait.burst${i}@example.net` }))));
    const refused = answers.filter((a) => a.status !== 200);
    assert.equal(refused.length, 2, JSON.stringify(answers.map((a) => [a.status, a.body.error?.code])));
    for (const a of refused) {
      assert.equal(a.status, 429);
      assert.equal(a.body.error.code, 'registration.too_many_registrations');
      assert.equal(a.body.error.params.seconds, 3600);
      assert.equal(a.res.headers['retry-after'], '3600');
      assert.match(a.body.error.message, /Please try again in 60 minutes\.$/);
    }
  });
});
