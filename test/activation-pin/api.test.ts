import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAccountByUsername } from '../../src/accounts/repository.js';
import { verifyPassword } from '../../src/auth/passwords.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { devOutbox, lastPinFor, makeAmka, seedStudent } from './helpers.js';

const KIND = 'activation-pin';
const greek = () =>
  testConfig((c) => {
    c.institution.defaultCountry = 'GR';
    c.activation.consents = [
      { id: 'directory', text: { en: 'Show me in the directory', el: 'Εμφάνιση στον κατάλογο' }, version: 'v1', required: false },
      { id: 'terms', text: { en: 'I accept the terms of use' }, version: 't3', required: true },
    ];
  });

describe('activation-pin through the JSON API', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: greek() });
  });
  after(() => t.close());

  it('goes from contact to an active account (national id asked, AMKA given)', async () => {
    await seedStudent(t.ctx, { externalId: 'S2001', mobile: '+306912345667', email: 'Eleni.P@example.org' });
    const c = apiClient(t.app);
    const started = await c.start(KIND);
    assert.equal(started.status, 201);
    assert.equal(started.body.state, 'awaiting_contact');
    assert.deepEqual(started.body.fields.map((f: any) => f.name), ['mobile', 'email']);

    // National notation with the institution's default country (GR), email in other case.
    let r = await c.submit(KIND, started.body.id, { mobile: '691 234 5667', email: 'ELENI.p@Example.org' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_pin');
    assert.deepEqual(r.body.actions, ['submit', 'resend']);
    assert.deepEqual(r.body.data.destinations, ['sms:+30 69** *** *67', 'email:E***@example.org']);
    const out = await devOutbox(t.app);
    const sms = out.find((m) => m.channel === 'sms')!;
    const mail = out.find((m) => m.channel === 'email')!;
    assert.equal(sms.to, '+306912345667');
    assert.equal(mail.to, 'Eleni.P@example.org');
    assert.ok(mail.text.length > 0 && mail.subject);
    const pin = await lastPinFor(t.app, '+306912345667');
    assert.match(pin, /^\d{6}$/);
    assert.ok(mail.text.includes(pin), 'the same PIN goes to both destinations');

    r = await c.submit(KIND, started.body.id, { pin });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_national_id');
    assert.deepEqual(r.body.fields.map((f: any) => f.name), ['amka']);

    r = await c.submit(KIND, started.body.id, { amka: '12345678901' });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'national_id.invalid');
    assert.equal(r.body.error.fields.amka, 'amka.invalid');

    const amka = makeAmka('150803');
    r = await c.submit(KIND, started.body.id, { amka });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_consent');
    assert.equal(r.body.data.username, 'S2001');
    assert.deepEqual(r.body.data.consents.map((x: any) => x.id), ['directory', 'terms']);
    // Each consent field says what is recorded with the choice, as registration's do.
    assert.deepEqual(r.body.fields.filter((f: any) => f.consent).map((f: any) => [f.name, f.consent]), [['consents.directory', { id: 'directory', version: 'v1' }], ['consents.terms', { id: 'terms', version: 't3' }]]);

    r = await c.submit(KIND, started.body.id, { dataAccurate: true, consents: { directory: true } });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.fields['consents.terms'], 'field.required');
    r = await c.submit(KIND, started.body.id, { dataAccurate: false, consents: { terms: true } });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.fields.dataAccurate, 'field.required');
    // A value that says neither yes nor no is invalid, as a consent's is — not a missing answer.
    for (const dataAccurate of [5, 'yes', { yes: true }, [true]]) {
      r = await c.submit(KIND, started.body.id, { dataAccurate, consents: { terms: true } });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.error.fields, { dataAccurate: 'field.invalid' }, JSON.stringify(dataAccurate));
    }
    r = await c.submit(KIND, started.body.id, { dataAccurate: 'yes', consents: { terms: 'yes' } });
    assert.deepEqual(r.body.error.fields, { dataAccurate: 'field.invalid', 'consents.terms': 'field.invalid' }, 'every problem at once');
    r = await c.submit(KIND, started.body.id, { consents: { terms: true } });
    assert.deepEqual(r.body.error.fields, { dataAccurate: 'field.required' });
    // A consent the institution does not ask for (a mistyped id) is refused, not dropped.
    r = await c.submit(KIND, started.body.id, { dataAccurate: true, consents: { terms: true, directroy: true } });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.error.fields, { 'consents.directroy': 'field.invalid' });
    assert.equal(r.body.state, 'awaiting_consent');

    r = await c.submit(KIND, started.body.id, { dataAccurate: true, consents: { directory: true, terms: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_password');
    const suggestions = r.body.data.suggestions as string[];
    assert.equal(suggestions.length, 3);
    assert.equal(new Set(suggestions).size, 3);

    r = await c.submit(KIND, started.body.id, { password: 'short', passwordConfirm: 'short' });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'password.policy');
    r = await c.submit(KIND, started.body.id, { password: 'Correct-Horse-42', passwordConfirm: 'Correct-Horse-43' });
    assert.equal(r.body.error.code, 'password.mismatch');

    r = await c.submit(KIND, started.body.id, { password: suggestions[1], passwordConfirm: suggestions[1] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'completed');
    assert.deepEqual(r.body.result, { username: 'S2001', email: 's2001@studenti.unidemo.example.org', status: 'active' });

    const account = await findAccountByUsername(t.ctx.db.kysely, 'S2001');
    assert.equal(account!.status, 'active');
    assert.ok((await verifyPassword(account!.passwordHash!, suggestions[1]!)).ok);
    const person = await t.ctx.db.kysely.selectFrom('persons').select(['amka']).where('id', '=', account!.personId!).executeTakeFirstOrThrow();
    assert.equal(person.amka, amka);
    const consents = await t.ctx.db.kysely.selectFrom('consent_records').selectAll().where('person_id', '=', account!.personId!).orderBy('consent_id').execute();
    assert.deepEqual(
      consents.map((x) => [x.consent_id, x.version, x.granted]),
      [
        ['directory', 'v1', 1],
        ['terms', 't3', 1],
      ],
    );
    // The completed flow keeps no password, offered or chosen.
    const row = await t.ctx.db.kysely.selectFrom('flows').select('data').where('id', '=', started.body.id).executeTakeFirstOrThrow();
    for (const s of suggestions) assert.ok(!row.data.includes(s));
    const again = await c.get(KIND, started.body.id);
    assert.equal(again.body.state, 'completed');
    const audit = await t.ctx.db.kysely.selectFrom('audit_log').select(['action', 'details']).where('person_id', '=', account!.personId!).execute();
    const actions = audit.map((a) => a.action);
    for (const a of ['activation.pin_sent', 'activation.pin_verified', 'person.national_id_added', 'activation.data_confirmed', 'account.activated', 'account.status_changed']) {
      assert.ok(actions.includes(a), `audit has ${a}`);
    }
    for (const a of audit) assert.ok(!a.details.includes(pin), 'no PIN in the audit log');
  });

  it('skips the national id step when the record has one, and accepts +30 and 0030 notations', async () => {
    await seedStudent(t.ctx, { externalId: 'S2002', mobile: '+306998887766', email: null, amka: makeAmka('010190') });
    for (const notation of ['+30 699 888 7766', '0030 6998887766']) {
      const c = apiClient(t.app);
      const s = await c.start(KIND);
      const r = await c.submit(KIND, s.body.id, { mobile: notation });
      assert.equal(r.status, 200, notation);
      assert.deepEqual(r.body.data.destinations, ['sms:+30 69** *** *66']);
      const pin = await lastPinFor(t.app, '+306998887766');
      const p = await c.submit(KIND, s.body.id, { pin });
      assert.equal(p.body.state, 'awaiting_consent', notation);
      t.clock.advance(61_000);
    }
  });

  it('foreign students give a country and an insurance or EHIC number', async () => {
    await seedStudent(t.ctx, { externalId: 'S2003', mobile: null, email: 'jean@example.fr' });
    const c = apiClient(t.app, { lang: 'el' });
    const s = await c.start(KIND);
    await c.submit(KIND, s.body.id, { email: 'jean@example.fr' });
    const r1 = await c.submit(KIND, s.body.id, { pin: await lastPinFor(t.app, 'jean@example.fr') });
    assert.equal(r1.body.state, 'awaiting_national_id');
    const sw = await c.submit(KIND, s.body.id, { action: 'use_insurance' });
    assert.equal(sw.status, 200);
    assert.deepEqual(sw.body.fields.map((f: any) => f.name), ['insuranceCountry', 'insuranceNumber']);
    const options = sw.body.fields[0].options as Array<{ value: string; label: string }>;
    assert.equal(options.find((o) => o.value === 'FR')!.label, 'Γαλλία', 'country names in the page language');
    assert.ok(options.some((o) => o.value === 'CY'));
    let r = await c.submit(KIND, s.body.id, { insuranceCountry: 'FR', insuranceNumber: '80250000000000000000'.slice(0, 19) + 'X' });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'national_id.invalid');
    assert.equal(r.body.error.fields.insuranceNumber, 'insurance.invalid');
    r = await c.submit(KIND, s.body.id, { insuranceCountry: 'ZZ', insuranceNumber: '12345' });
    assert.equal(r.body.error.fields.insuranceCountry, 'country.invalid');
    r = await c.submit(KIND, s.body.id, { insuranceCountry: 'FR', insuranceNumber: '8025 0000 1234 5678 9012' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_consent');
    const person = await t.ctx.db.kysely.selectFrom('persons').select(['insurance_country', 'insurance_number']).where('external_id', '=', 'S2003').executeTakeFirstOrThrow();
    assert.deepEqual(person, { insurance_country: 'FR', insurance_number: '80250000123456789012' });
  });

  it('answers activation.no_match for unknown, provisional and other-population records', async () => {
    await seedStudent(t.ctx, { externalId: 'S2004', mobile: '+306900000001', email: 'prov@example.org', status: 'provisional', registrarStatus: 'provisional' });
    await seedStudent(t.ctx, { externalId: 'X2005', mobile: '+306900000002', email: 'ext@example.org', population: 'external' });
    const c = apiClient(t.app, { lang: 'el' });
    for (const input of [{ mobile: '+306900000009' }, { email: 'nobody@example.org' }, { mobile: '+306900000001' }, { email: 'prov@example.org' }, { email: 'ext@example.org' }]) {
      const s = await c.start(KIND);
      const r = await c.submit(KIND, s.body.id, input);
      assert.equal(r.status, 422, JSON.stringify(input));
      assert.equal(r.body.error.code, 'activation.no_match');
      assert.equal(r.body.error.message, 'Δεν βρέθηκε χρήστης με τα στοιχεία αυτά.');
      assert.equal(r.body.state, 'awaiting_contact');
    }
    assert.equal((await devOutbox(t.app)).filter((m) => ['+306900000001', 'prov@example.org', 'ext@example.org'].includes(m.to)).length, 0);
  });

  it('sends an active account to login or recovery', async () => {
    await seedStudent(t.ctx, { externalId: 'S2006', mobile: '+306900000006', email: null, status: 'active' });
    const c = apiClient(t.app);
    const s = await c.start(KIND);
    const r = await c.submit(KIND, s.body.id, { mobile: '+306900000006' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'activation.already_active');
  });

  it('rejects bad contacts with field errors and changes nothing', async () => {
    const smsBefore = (await t.ctx.db.kysely.selectFrom('outbox').select('id').where('channel', '=', 'sms').execute()).length;
    const c = apiClient(t.app, { lang: 'it' });
    const s = await c.start(KIND);
    let r = await c.submit(KIND, s.body.id, {});
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'validation.failed');
    assert.deepEqual(r.body.error.fields, { mobile: 'activation.contact_required', email: 'activation.contact_required' });
    r = await c.submit(KIND, s.body.id, { mobile: '12', email: 'not-an-email' });
    assert.equal(r.body.error.fields.mobile, 'phone.invalid');
    assert.equal(r.body.error.fields.email, 'email.invalid');
    assert.equal(r.body.state, 'awaiting_contact');
    // A landline (Milan) or a toll-free number would never receive the PIN: said at once, nothing sent.
    for (const landline of ['+39 02 1234 5678', '+39 800 123456', '0030 210 322 1234']) {
      r = await c.submit(KIND, s.body.id, { mobile: landline });
      assert.equal(r.status, 422, landline);
      assert.deepEqual(r.body.error.fields, { mobile: 'phone.not_mobile' }, landline);
      assert.match(r.body.messages.find((m: { field?: string }) => m.field === 'mobile').text, /non è un numero di cellulare/);
    }
    assert.equal((await t.ctx.db.kysely.selectFrom('outbox').select('id').where('channel', '=', 'sms').execute()).length, smsBefore);
  });

  it('PIN: 5 wrong tries lock it (429), expiry, resend cool-down and hourly cap', async () => {
    await seedStudent(t.ctx, { externalId: 'S2007', mobile: '+306900000007', email: null, amka: makeAmka('020202') });
    const c = apiClient(t.app);
    const s = await c.start(KIND);
    await c.submit(KIND, s.body.id, { mobile: '+306900000007' });
    const pin = await lastPinFor(t.app, '+306900000007');
    const wrong = pin === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) {
      const r = await c.submit(KIND, s.body.id, { pin: wrong });
      assert.equal(r.status, 422);
      assert.equal(r.body.error.code, 'activation.pin_invalid');
    }
    let r = await c.submit(KIND, s.body.id, { pin: wrong });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'activation.pin_locked');
    r = await c.submit(KIND, s.body.id, { pin });
    assert.equal(r.status, 429, 'the right PIN no longer works once locked');

    // Resend: at once is too soon; after the cool-down a new PIN works.
    r = await c.submit(KIND, s.body.id, { action: 'resend' });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'activation.resend_too_soon');
    assert.equal(r.res.headers['retry-after'], String(r.body.error.params.seconds), 'the wait, in the standard header too');
    t.clock.advance(61_000);
    r = await c.submit(KIND, s.body.id, { action: 'resend' });
    assert.equal(r.status, 200);
    assert.equal(r.body.data.resent, true);
    const pin2 = await lastPinFor(t.app, '+306900000007');

    // Expiry: ten minutes.
    t.clock.advance(10 * 60_000 + 1000);
    r = await c.submit(KIND, s.body.id, { pin: pin2 });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'activation.pin_expired');

    // Hourly cap per record, across flows: 5 PINs per hour (2 sent so far).
    for (let i = 0; i < 3; i++) {
      t.clock.advance(61_000);
      const x = await c.start(KIND);
      const y = await c.submit(KIND, x.body.id, { mobile: '+306900000007' });
      assert.equal(y.status, 200, `pin ${i + 3}`);
    }
    t.clock.advance(61_000);
    const x = await c.start(KIND);
    const y = await c.submit(KIND, x.body.id, { mobile: '+306900000007' });
    assert.equal(y.status, 429);
    assert.equal(y.body.error.code, 'activation.too_many_pins');
    t.clock.advance(3600_000);
    const fresh = await c.start(KIND);
    const z = await c.submit(KIND, fresh.body.id, { mobile: '+306900000007' });
    assert.equal(z.status, 200, 'allowed again an hour later');
  });

  it('holds the hourly cap per record when many flows submit its contact at once', async () => {
    await seedStudent(t.ctx, { externalId: 'S2018', mobile: '+306900000018', email: null, amka: makeAmka('040404') });
    const c = apiClient(t.app);
    const flows = await Promise.all(Array.from({ length: 12 }, () => c.start(KIND)));
    const answers = await Promise.all(flows.map((f) => c.submit(KIND, f.body.id, { mobile: '+30 690 000 0018' })));
    const sent = answers.filter((r) => r.status === 200).length;
    assert.equal(sent, t.ctx.config.activation.pin.maxPerHour, JSON.stringify(answers.map((r) => r.status)));
    assert.ok(answers.filter((r) => r.status !== 200).every((r) => r.status === 429 && r.body.error.code === 'activation.too_many_pins'));
    const messages = await t.ctx.db.kysely.selectFrom('outbox').select('id').where('recipient', '=', '+306900000018').execute();
    assert.equal(messages.length, sent, 'one message per PIN sent, none for the refused');
  });

  it('50 concurrent submissions of one PIN advance the flow exactly once', async () => {
    await seedStudent(t.ctx, { externalId: 'S2008', mobile: '+306900000008', email: null, amka: makeAmka('030303') });
    const c = apiClient(t.app);
    const s = await c.start(KIND);
    await c.submit(KIND, s.body.id, { mobile: '+306900000008' });
    const pin = await lastPinFor(t.app, '+306900000008');
    const results = await Promise.all(Array.from({ length: 50 }, () => c.submit(KIND, s.body.id, { pin })));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const r of results) if (r.status !== 200) assert.ok([409, 422].includes(r.status), String(r.status));
    const row = await t.ctx.db.kysely.selectFrom('flows').select(['state', 'version']).where('id', '=', s.body.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { state: 'awaiting_consent', version: 2 });
    const verified = await t.ctx.db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'activation.pin_verified').where('correlation_id', 'is not', null).execute();
    const forThis = await t.ctx.db.kysely
      .selectFrom('audit_log')
      .innerJoin('persons', 'persons.id', 'audit_log.person_id')
      .select('audit_log.id')
      .where('audit_log.action', '=', 'activation.pin_verified')
      .where('persons.external_id', '=', 'S2008')
      .execute();
    assert.ok(verified.length >= 1);
    assert.equal(forThis.length, 1);
  });

  it('lists helpdesk tickets for administrators, newest first', async () => {
    const c = apiClient(t.app, { lang: 'en' });
    const a = await c.request('POST', '/api/v1/tickets', { flow: 'activation-pin', state: 'awaiting_pin', code: 'activation.pin_locked', reference: 'req-12345678', time: '2026-11-23T09:00:00.000Z', contact: '+30 691 234 5667', message: 'No PIN' });
    assert.equal(a.status, 201);
    t.clock.advance(1000);
    const b = await c.request('POST', '/api/v1/tickets', { contact: 'me@example.org', message: 'Second' });
    assert.equal(b.status, 201);
    const bad = await c.request('POST', '/api/v1/tickets', { contact: 'me@example.org', message: 'x', code: '<script>' });
    assert.equal(bad.status, 422);
    assert.equal((await c.request('GET', '/api/v1/admin/tickets')).status, 401);
    const list = await c.request('GET', '/api/v1/admin/tickets', undefined, adminHeaders);
    assert.equal(list.status, 200);
    assert.equal(list.body.tickets[0].id, b.body.id);
    assert.equal(list.body.tickets[1].id, a.body.id);
    assert.equal(list.body.tickets[1].contact, '+306912345667');
    assert.equal(list.body.tickets[1].code, 'activation.pin_locked');
  });
});

describe('activation-pin in enumeration-safe mode', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.activation.enumerationSafe = true)) });
  });
  after(() => t.close());

  it('answers an unknown contact like a known one and sends nothing', async () => {
    await seedStudent(t.ctx, { externalId: 'S3001', mobile: '+306900000031', email: 'known@example.org' });
    const c = apiClient(t.app);
    const known = await c.start(KIND);
    const k = await c.submit(KIND, known.body.id, { email: 'known@example.org' });
    const unknown = await c.start(KIND);
    const u = await c.submit(KIND, unknown.body.id, { email: 'unknown@example.org' });
    assert.equal(u.status, k.status);
    assert.equal(u.body.state, k.body.state);
    assert.deepEqual(Object.keys(u.body.data).sort(), Object.keys(k.body.data).sort());
    assert.deepEqual(u.body.data.destinations, ['email:u***@example.org']);
    const out = await devOutbox(t.app);
    assert.equal(out.filter((m) => m.to === 'unknown@example.org').length, 0);
    assert.equal(out.filter((m) => m.to === 'known@example.org').length, 1);
    for (let i = 0; i < 4; i++) assert.equal((await c.submit(KIND, unknown.body.id, { pin: '123456' })).body.error.code, 'activation.pin_invalid');
    assert.equal((await c.submit(KIND, unknown.body.id, { pin: '123456' })).status, 429);
  });
});
