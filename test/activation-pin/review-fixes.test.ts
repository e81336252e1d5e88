import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { seedAccount } from '../helpers/fixtures.js';
import { devOutbox, lastPinFor, makeAmka } from './helpers.js';

const KIND = 'activation-pin';

describe('activation-pin, enumeration-safe: the answer depends only on what was typed', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.activation.enumerationSafe = true;
        c.activation.pin.maxPerHour = 3;
      }),
    });
    await seedAccount(t.ctx, { externalId: 'E5001', mobile: '+393471110051', personalEmail: 'Known.Person@example.org' });
    await seedAccount(t.ctx, { externalId: 'E5002', mobile: '+393471110052', personalEmail: 'capped@example.org' });
  });
  after(() => t.close());

  it('applies the hourly cap to a contact typed whether or not it is on file', async () => {
    const c = apiClient(t.app);
    const statuses = async (email: string) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) {
        const s = await c.start(KIND);
        const r = await c.submit(KIND, s.body.id, { email });
        out.push(r.status);
        if (r.status === 429) assert.equal(r.body.error.code, 'activation.too_many_pins');
      }
      return out;
    };
    const known = await statuses('capped@example.org');
    const unknown = await statuses('stranger@example.org');
    assert.deepEqual(known, [200, 200, 200, 429]);
    assert.deepEqual(unknown, known);
    const out = await devOutbox(t.app);
    assert.equal(out.filter((m) => m.to === 'capped@example.org').length, 3);
    assert.equal(out.filter((m) => m.to === 'stranger@example.org').length, 0);
  });

  it('holds the hourly cap when many flows type the same contact at once', async () => {
    const c = apiClient(t.app);
    const flows = await Promise.all(Array.from({ length: 8 }, () => c.start(KIND)));
    const answers = await Promise.all(flows.map((f) => c.submit(KIND, f.body.id, { email: 'capped.parallel@example.org' })));
    const sent = answers.filter((r) => r.status === 200).length;
    assert.equal(sent, 3, JSON.stringify(answers.map((r) => r.status)));
    assert.ok(answers.filter((r) => r.status !== 200).every((r) => r.status === 429 && r.body.error.code === 'activation.too_many_pins'));
  });

  it('shows a destination for each contact typed, and sends only to the contacts on file', async () => {
    const c = apiClient(t.app);
    const a = await c.start(KIND);
    const partial = await c.submit(KIND, a.body.id, { mobile: '+39 347 111 0051', email: 'other@example.org' });
    const b = await c.start(KIND);
    const none = await c.submit(KIND, b.body.id, { mobile: '+39 347 111 0059', email: 'other2@example.org' });
    assert.equal(partial.status, 200);
    assert.equal(none.status, 200);
    assert.deepEqual(partial.body.data.destinations, ['sms:+39 34** *** *51', 'email:o***@example.org']);
    assert.deepEqual(none.body.data.destinations, ['sms:+39 34** *** *59', 'email:o***@example.org']);
    const out = await devOutbox(t.app);
    assert.ok(await lastPinFor(t.app, '+393471110051'), 'the PIN went to the mobile on file');
    assert.equal(out.filter((m) => ['other@example.org', 'other2@example.org', '+393471110059'].includes(m.to)).length, 0);
  });

  it('masks the email as typed, not the spelling on file', async () => {
    const c = apiClient(t.app);
    const a = await c.start(KIND);
    const known = await c.submit(KIND, a.body.id, { email: 'known.person@EXAMPLE.org' });
    const b = await c.start(KIND);
    const unknown = await c.submit(KIND, b.body.id, { email: 'kNown.persons@EXAMPLE.org' });
    assert.deepEqual(known.body.data.destinations, ['email:k***@EXAMPLE.org']);
    assert.deepEqual(unknown.body.data.destinations, ['email:k***@EXAMPLE.org']);
    const out = await devOutbox(t.app);
    assert.equal(out.filter((m) => m.to === 'Known.Person@example.org').length, 1, 'sent to the address on file');
  });
});

describe('activation-pin: record check, AMKA, German numbers, races, null inputs', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.activation.consents = [])) });
    const now = t.ctx.clock.now().toISOString();
    await t.ctx.db.kysely.insertInto('org_units').values({ code: 'DIP-ECO', name: 'Dipartimento di Economia', type: 'department', parent: null, created_at: now, updated_at: now }).execute();
  });
  after(() => t.close());

  /** Starts a flow for a seeded person and enters the PIN sent to their mobile. */
  async function throughPin(mobile: string, lang: 'it' | 'en' | 'el' = 'en') {
    const c = apiClient(t.app, { lang });
    const s = await c.start(KIND);
    const r = await c.submit(KIND, s.body.id, { mobile });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = await c.submit(KIND, s.body.id, { pin: await lastPinFor(t.app, mobile) });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    return { c, id: s.body.id as string, view: p.body };
  }

  it('shows the data on file, identifiers and contacts masked, in the API and on the page', async () => {
    const amka = makeAmka('150803', '4321');
    await seedAccount(t.ctx, {
      externalId: 'R6001',
      givenName: 'Eleni',
      familyName: 'Papadopoulou',
      birthDate: '2003-08-15',
      orgUnit: 'DIP-ECO',
      amka,
      taxCode: 'PPDLNE03M55Z115X',
      mobile: '+393471110061',
      personalEmail: 'eleni.p@example.org',
    });
    const { view } = await throughPin('+393471110061');
    assert.equal(view.state, 'awaiting_consent');
    assert.equal(view.data.username, 'R6001');
    assert.deepEqual(view.data.person, {
      givenName: 'Eleni',
      familyName: 'Papadopoulou',
      birthDate: '2003-08-15',
      population: 'student',
      orgUnit: { code: 'DIP-ECO', name: 'Dipartimento di Economia' },
      amka: `********${amka.slice(-3)}`,
      taxCode: '*************15X',
      insurance: null,
      mobile: '+39 34** *** *61',
      email: 'e***@example.org',
    });

    t.clock.advance(1000); // the page's PIN is the newest one in the outbox
    const b = new FormBrowser(t.app, 'el');
    await b.get('/flows/activation-pin');
    await b.submit({ mobile: '+393471110061', email: '' });
    await b.submit({ pin: await lastPinFor(t.app, '+393471110061') });
    const text = b.text();
    assert.match(text, /Καταχωρημένα στοιχεία/);
    assert.match(text, /Eleni Papadopoulou/);
    assert.match(text, /15\/08\/2003/);
    assert.match(text, /Dipartimento di Economia/);
    assert.match(text, /Φοιτητ|Student/);
    assert.ok(text.includes(`********${amka.slice(-3)}`));
    assert.ok(!b.html.includes(amka), 'the full AMKA is never shown');
    assert.ok(!b.html.includes('PPDLNE03M55Z115X'), 'the full tax code is never shown');
  });

  it('refuses an AMKA whose date is not the birth date on file, or that another person holds', async () => {
    const taken = makeAmka('010203', '5555');
    await seedAccount(t.ctx, { externalId: 'R6002', birthDate: '2003-02-01', amka: taken, mobile: '+393471110062' });
    await seedAccount(t.ctx, { externalId: 'R6003', birthDate: '2003-02-01', amka: null, mobile: '+393471110063' });
    const { c, id, view } = await throughPin('+393471110063', 'el');
    assert.equal(view.state, 'awaiting_national_id');

    let r = await c.submit(KIND, id, { amka: makeAmka('020103', '1111') });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'national_id.invalid');
    assert.equal(r.body.error.fields.amka, 'amka.birth_date_mismatch');
    assert.ok(r.body.messages.some((m: any) => m.field === 'amka' && /ημερομηνία γέννησης/.test(m.text)));
    r = await c.submit(KIND, id, { amka: taken });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'national_id.invalid');
    assert.equal(r.body.error.fields.amka, 'amka.in_use');
    assert.equal(r.body.state, 'awaiting_national_id');
    const before = await t.ctx.db.kysely.selectFrom('persons').select(['amka', 'updated_at']).where('external_id', '=', 'R6003').executeTakeFirstOrThrow();
    assert.deepEqual(before.amka, null, 'nothing changed');

    const own = makeAmka('010203', '6666');
    r = await c.submit(KIND, id, { amka: own });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.person.amka, `********${own.slice(-3)}`);
    const after = await t.ctx.db.kysely.selectFrom('persons').select('amka').where('external_id', '=', 'R6003').executeTakeFirstOrThrow();
    assert.equal(after.amka, own);
  });

  it('accepts a German health-insurance number (and still the pension-insurance number)', async () => {
    await seedAccount(t.ctx, { externalId: 'R6004', amka: null, mobile: '+393471110064' });
    const { c, id } = await throughPin('+393471110064');
    await c.submit(KIND, id, { action: 'use_insurance' });
    let r = await c.submit(KIND, id, { insuranceCountry: 'DE', insuranceNumber: 'A123456789' });
    assert.equal(r.status, 422, 'a wrong check digit');
    assert.equal(r.body.error.fields.insuranceNumber, 'insurance.invalid');
    r = await c.submit(KIND, id, { insuranceCountry: 'DE', insuranceNumber: 'a 12345678 0' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const person = await t.ctx.db.kysely.selectFrom('persons').select(['insurance_country', 'insurance_number']).where('external_id', '=', 'R6004').executeTakeFirstOrThrow();
    assert.deepEqual(person, { insurance_country: 'DE', insurance_number: 'A123456780' });
  });

  it('50 concurrent submissions: the PIN and the consent steps advance once, the others get 409 flow.wrong_state', async () => {
    await seedAccount(t.ctx, { externalId: 'R6005', amka: null, mobile: '+393471110065' });
    const c = apiClient(t.app);
    const s = await c.start(KIND);
    await c.submit(KIND, s.body.id, { mobile: '+393471110065' });
    const pin = await lastPinFor(t.app, '+393471110065');
    const check = (results: Array<{ status: number; body: any }>) => {
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      for (const r of results) if (r.status !== 200) assert.deepEqual([r.status, r.body.error.code], [409, 'flow.wrong_state']);
    };
    check(await Promise.all(Array.from({ length: 50 }, () => c.submit(KIND, s.body.id, { pin }))));
    const amka = await c.submit(KIND, s.body.id, { amka: makeAmka('110105', '7777') });
    assert.equal(amka.body.state, 'awaiting_consent');
    check(await Promise.all(Array.from({ length: 50 }, () => c.submit(KIND, s.body.id, { dataAccurate: true, consents: {} }))));
    const row = await t.ctx.db.kysely.selectFrom('flows').select(['state', 'version']).where('id', '=', s.body.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { state: 'awaiting_password', version: 4 });
    // A wrong input for the current state is still a 422.
    const wrong = await c.submit(KIND, s.body.id, { password: 'x', passwordConfirm: 'y' });
    assert.equal(wrong.status, 422);
  });

  it('accepts an explicit null for an unused input, and the hint names the default country', async () => {
    await seedAccount(t.ctx, { externalId: 'R6006', amka: null, mobile: '+393471110019' });
    const c = apiClient(t.app, { lang: 'en' });
    const s = await c.start(KIND);
    assert.match(s.body.fields[0].hint, /without the country code, only numbers of this country: Italy/i);
    const r = await c.submit(KIND, s.body.id, { mobile: '347 111 0019', email: null });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_pin');
    const italian = await apiClient(t.app, { lang: 'it' }).start(KIND);
    assert.match(italian.body.fields[0].hint, /Italia/);
  });
});
