import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkEligibility, type EligibilityFacts, type EligibilityItem } from '../../src/mailboxes/eligibility.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount, type PersonFixture } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken, timelineActions } from './helpers.js';
import { lastPinFor } from '../activation-pin/helpers.js';

const PW = 'Scuola-Pass1';
const TAX = 'RSSMRA80A41H501Y';
const goodInput = { documentType: 'identity_card', documentNumber: 'CA12345AB', documentIssuer: 'Comune di Roma', documentExpiry: '2030-01-31', taxCode: TAX };

describe('eligibility rules (pure)', () => {
  const facts: EligibilityFacts = {
    accountStatus: 'active',
    entitlements: ['istanze-online'],
    istanzeEntitlement: 'istanze-online',
    personalEmail: 'm@example.net',
    personalEmailVerified: true,
    recordTaxCode: TAX,
    contractType: 'fixed_term',
    document: { type: 'passport', number: 'YA1234567', issuer: 'Questura di Roma', expiry: '2026-11-23' },
    givenTaxCode: TAX.toLowerCase(),
    today: '2026-11-23',
  };
  const cases: Array<[string, Partial<EligibilityFacts>, EligibilityItem[]]> = [
    ['all requirements met (document expiring today still valid, case-insensitive codice fiscale)', {}, []],
    ['suspended account', { accountStatus: 'suspended' }, ['account_active']],
    ['no Istanze OnLine', { entitlements: [] }, ['istanze_online']],
    ['no personal email', { personalEmail: null }, ['personal_email']],
    ['unverified personal email', { personalEmailVerified: false }, ['personal_email']],
    ['expired document', { document: { ...facts.document, expiry: '2026-11-22' } }, ['identity_document']],
    ['document without issuer', { document: { ...facts.document, issuer: null } }, ['identity_document']],
    ['unknown document type', { document: { ...facts.document, type: 'library_card' } }, ['identity_document']],
    ['other codice fiscale', { givenTaxCode: 'BNCLCU80A01H501Q' }, ['tax_code']],
    ['record without codice fiscale', { recordTaxCode: null }, ['tax_code']],
    ['short-term substitute', { contractType: 'short_term_substitute' }, ['contract']],
    ['several at once, in order', { contractType: 'short_term_substitute', entitlements: [], accountStatus: 'locked' }, ['account_active', 'istanze_online', 'contract']],
  ];
  for (const [name, patch, expected] of cases) {
    it(name, () => assert.deepEqual(checkEligibility({ ...facts, ...patch }), expected));
  }
});

describe('school staff mailbox requests', () => {
  let t: TestApp;
  let n = 0;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  /** A teacher meeting every requirement, with `patch` applied; signed in through the API. */
  async function teacher(patch: Partial<PersonFixture> = {}, lang = 'it') {
    n += 1;
    const username = `docente${n}`;
    const s = await seedAccount(t.ctx, {
      population: 'school_staff',
      externalId: `T${n}`,
      givenName: 'Maria',
      familyName: `Rossi`,
      username,
      status: 'active',
      password: PW,
      taxCode: TAX,
      personalEmail: `docente${n}@example.net`,
      contractType: 'permanent',
      entitlements: ['istanze-online'],
      ...patch,
    });
    const c = apiClient(t.app, { bearer: await sessionToken(t.app, username, PW), lang });
    return { ...s, c };
  }

  it('activating with a PIN opens no mailbox: a teacher asks for it, and a short-term substitute never gets one', async () => {
    for (const [i, contractType] of [[1, 'permanent'], [2, 'short_term_substitute']] as const) {
      const mobile = `+39339000000${i}`;
      const s = await seedAccount(t.ctx, {
        population: 'school_staff', externalId: `TP${i}`, givenName: 'Lucia', familyName: `Ferri${i}`, status: 'pending_activation',
        taxCode: TAX, mobile, personalEmail: `lucia${i}@example.net`, contractType, entitlements: ['istanze-online'],
      });
      const c = apiClient(t.app);
      const f = (await c.start('activation-pin')).body;
      await c.submit('activation-pin', f.id, { mobile });
      await c.submit('activation-pin', f.id, { pin: await lastPinFor(t.app, mobile) });
      await c.submit('activation-pin', f.id, { dataAccurate: true, consents: { directory: true } });
      const done = await c.submit('activation-pin', f.id, { password: 'Lucia-Pass-2026', passwordConfirm: 'Lucia-Pass-2026' });
      assert.equal(done.body.state, 'completed', JSON.stringify(done.body));
      assert.equal(done.body.result.email, null, 'no address yet');
      const acc = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'email']).where('id', '=', s.accountId).executeTakeFirstOrThrow();
      assert.deepEqual(acc, { status: 'active', email: null });
      const me = apiClient(t.app, { bearer: await sessionToken(t.app, s.username, 'Lucia-Pass-2026') });
      const req = (await me.start('mailbox-request')).body;
      assert.equal(req.state, 'awaiting_details', JSON.stringify(req));
      const r = await me.submit('mailbox-request', req.id, goodInput);
      if (contractType === 'permanent') {
        assert.equal(r.body.state, 'completed', JSON.stringify(r.body));
        assert.match(r.body.result.address, /^lucia\.ferri1@scuole\./);
      } else assert.equal(r.body.error.code, 'mailbox.not_eligible');
    }
  });

  const itemTexts: Record<EligibilityItem, RegExp> = {
    account_active: /utenza di accesso al portale non è attiva/,
    istanze_online: /non hai l’abilitazione al servizio Istanze OnLine/i,
    personal_email: /indirizzo di posta elettronica personale verificato/,
    identity_document: /documento di identità è incompleto o scaduto/,
    tax_code: /codice fiscale non corrisponde/,
    contract: /supplenza breve e saltuaria/,
  };
  const cases: Array<[EligibilityItem, Partial<PersonFixture>, Record<string, string>, ((t: TestApp, accountId: string, personId: string) => Promise<void>)?]> = [
    ['account_active', {}, {}, async (app, accountId) => void (await app.ctx.db.kysely.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', accountId).execute())],
    ['istanze_online', { entitlements: [] }, {}],
    ['personal_email', { personalEmail: null }, {}],
    ['personal_email', {}, {}, async (app, _a, personId) => void (await app.ctx.db.kysely.updateTable('persons').set({ extra: JSON.stringify({ personalEmailVerified: false }) }).where('id', '=', personId).execute())],
    ['identity_document', {}, { documentExpiry: '2026-11-22' }],
    ['tax_code', {}, { taxCode: 'BNCLCU80A01H501Q' }],
    ['contract', { contractType: 'short_term_substitute' }, {}],
  ];

  for (const [item, patch, input, tweak] of cases) {
    it(`refuses with mailbox.not_eligible when only ${item} fails${tweak ? ' (set after sign-in)' : ''}`, async () => {
      const me = await teacher(patch);
      const flow = (await me.c.start('mailbox-request')).body;
      assert.equal(flow.state, 'awaiting_details');
      await tweak?.(t, me.accountId, me.personId);
      const r = await me.c.submit('mailbox-request', flow.id, { ...goodInput, ...input });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'mailbox.not_eligible');
      assert.equal(r.body.state, 'awaiting_details');
      const items = r.body.messages.slice(1);
      assert.equal(items.length, 1, JSON.stringify(r.body.messages));
      assert.match(items[0].text, itemTexts[item]);
      // The item a person can correct on the form is named as its field, in messages and in error.fields alike.
      assert.deepEqual(r.body.error.fields, item === 'tax_code' ? { taxCode: 'mailbox.not_eligible' } : {});
      const acc = await t.ctx.db.kysely.selectFrom('accounts').select('email').where('id', '=', me.accountId).executeTakeFirstOrThrow();
      assert.equal(acc.email, null);
      const decisions = await t.ctx.db.kysely.selectFrom('audit_log').select('details').where('account_id', '=', me.accountId).where('action', '=', 'mailbox.eligibility_checked').execute();
      assert.equal(decisions.length, 1);
      assert.deepEqual(JSON.parse(decisions[0]!.details).failing, [item]);
      assert.doesNotMatch(decisions[0]!.details, /CA12345AB/);
    });
  }

  it('explains several failing items in the person’s language (Greek)', async () => {
    const me = await teacher({ contractType: 'short_term_substitute', entitlements: [] }, 'el');
    const flow = (await me.c.start('mailbox-request')).body;
    const r = await me.c.submit('mailbox-request', flow.id, { ...goodInput, documentExpiry: '2020-01-01' });
    assert.equal(r.body.error.code, 'mailbox.not_eligible');
    const texts = r.body.messages.map((m: { text: string }) => m.text);
    assert.equal(texts.length, 4);
    assert.match(texts[0], /Δεν πληροίτε/);
    assert.match(texts[1], /Istanze OnLine/);
    assert.match(texts[2], /έγγραφο ταυτότητας/);
    assert.match(texts[3], /βραχυχρόνιες αναπληρώσεις/);
  });

  it('rejects malformed details field by field and changes nothing', async () => {
    const me = await teacher();
    const flow = (await me.c.start('mailbox-request')).body;
    assert.deepEqual(flow.fields.map((f: { name: string }) => f.name), ['documentType', 'documentNumber', 'documentIssuer', 'documentExpiry', 'taxCode']);
    const r = await me.c.submit('mailbox-request', flow.id, { documentType: 'tessera', documentExpiry: '31/01/2030', taxCode: 'x' });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.error.fields, { documentType: 'field.invalid', documentNumber: 'field.required', documentIssuer: 'field.required', documentExpiry: 'date.invalid', taxCode: 'tax_code.invalid' });
    const missing = await me.c.submit('mailbox-request', flow.id, { documentNumber: 'CA12345AB' });
    assert.equal(missing.body.error.fields.documentType, 'field.required', 'a document type left out is missing, not invalid');
    // A codice fiscale with a wrong check character (a typo) is said to be invalid, not someone else's.
    const typo = await me.c.submit('mailbox-request', flow.id, { ...goodInput, taxCode: 'RSSMRA80A41H501X' });
    assert.equal(typo.status, 422);
    assert.deepEqual(typo.body.error.fields, { taxCode: 'tax_code.invalid' });
    // A day the calendar does not have is no expiry date, even in the future.
    for (const documentExpiry of ['2030-02-31', '2031-04-31', '2030-02-29']) {
      const impossible = await me.c.submit('mailbox-request', flow.id, { ...goodInput, documentExpiry });
      assert.equal(impossible.status, 422, documentExpiry);
      assert.deepEqual(impossible.body.error.fields, { documentExpiry: 'date.invalid' }, documentExpiry);
    }
    assert.equal((await t.ctx.db.kysely.selectFrom('audit_log').select('id').where('account_id', '=', me.accountId).where('action', 'like', 'mailbox.%').execute()).length, 0);
  });

  it('fulfils an eligible request at once, through the API', async () => {
    const me = await teacher({ givenName: 'Anna Maria', familyName: 'Dell’Orto' });
    const flow = (await me.c.start('mailbox-request')).body;
    const r = await me.c.submit('mailbox-request', flow.id, goodInput);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.result, { address: 'anna.dellorto@scuole.unidemo.example.org', status: 'active' });
    const mail = (await outbox(t.ctx, 'mailbox_assigned')).find((m) => m.recipient === `docente${n}@example.net`);
    assert.ok(mail);
    assert.match(mail.text, /anna\.dellorto@scuole\.unidemo\.example\.org/);
    // Like the other emails: who sends it in the subject and the signature, a greeting, an HTML part.
    assert.equal(mail.subject, 'Università Demo: la tua casella di posta istituzionale è pronta');
    assert.match(mail.text, /^Gentile Anna Maria Dell’Orto,\n\nIl tuo indirizzo istituzionale è anna\.dellorto@scuole\.unidemo\.example\.org\. Accedi/);
    assert.match(mail.text, /\n--\n\nUniversità Demo$/);
    assert.match(mail.html!, /^<!doctype html><html lang="it">/);
    const actions = await timelineActions(t.app, `docente${n}`);
    assert.ok(actions.includes('mailbox.eligibility_checked') && actions.includes('mailbox.assigned'), actions.join());
    const again = await me.c.start('mailbox-request');
    assert.equal(again.body.error.code, 'mailbox.already_assigned');
  });

  it('fulfils an eligible request in the browser, in Italian', async () => {
    await teacher({ givenName: 'Giorgio', familyName: 'Bassi' });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/login');
    await b.submit({ username: `docente${n}`, password: PW });
    await b.get('/account');
    assert.match(b.text(), /Richiedi una casella di posta istituzionale/);
    await b.get('/flows/mailbox-request');
    assert.match(b.text(), /supplenza breve e saltuaria/);
    await b.submit({ ...goodInput, taxCode: 'BNCLCU80A01H501Q' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /codice fiscale non corrisponde/);
    await b.submit(goodInput);
    assert.equal(b.status, 200);
    assert.match(b.text(), /La tua casella istituzionale è pronta: giorgio\.bassi@scuole\.unidemo\.example\.org/);
  });

  it('refuses people of other populations', async () => {
    await seedAccount(t.ctx, { population: 'student', externalId: '2026001', status: 'active', password: PW });
    const c = apiClient(t.app, { bearer: await sessionToken(t.app, '2026001', PW) });
    const r = await c.start('mailbox-request');
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'mailbox.not_available');
    assert.equal((await apiClient(t.app).start('mailbox-request')).body.error.code, 'flow.session_required');
  });
});

describe('school staff routed to a referent where configured', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.mailboxes.schoolStaffNeedApproval = true)) });
    await importOffices(t.app, OFFICES);
  });
  after(() => t.close());

  it('an eligible request waits for the referent of the school’s office', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R1', username: 'ref.mi', email: 'ref.mi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'AT-MI' });
    await nameReferent(t.app, 'AT-MI', 'ref.mi');
    await seedAccount(t.ctx, { population: 'school_staff', externalId: 'T1', username: 'ata1', status: 'active', password: PW, taxCode: TAX, personalEmail: 'ata1@example.net', contractType: 'fixed_term', entitlements: ['istanze-online'], orgUnit: 'AT-MI' });
    const c = apiClient(t.app, { bearer: await sessionToken(t.app, 'ata1', PW) });
    const flow = (await c.start('mailbox-request')).body;
    const r = await c.submit('mailbox-request', flow.id, goodInput);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_approval');
    assert.deepEqual((await outbox(t.ctx, 'mailbox_request')).map((m) => m.recipient), ['ref.mi@unidemo.example.org']);
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'ref.mi', PW) });
    const list = await ref.request('GET', '/api/v1/referent/requests');
    const ok = await ref.request('POST', `/api/v1/referent/requests/${list.body.requests[0].id}/approve`, {});
    assert.equal(ok.body.address, 'maria.rossi@scuole.unidemo.example.org');
  });

  it('a request whose requester the ministry now lists as a short-term substitute cannot be approved, only rejected', async () => {
    await seedAccount(t.ctx, { population: 'school_staff', externalId: 'T2', givenName: 'Paola', familyName: 'Neri', username: 'ata2', status: 'active', password: PW, taxCode: TAX, personalEmail: 'ata2@example.net', contractType: 'fixed_term', entitlements: ['istanze-online'], orgUnit: 'AT-MI' });
    const c = apiClient(t.app, { bearer: await sessionToken(t.app, 'ata2', PW) });
    const flow = (await c.start('mailbox-request')).body;
    assert.equal((await c.submit('mailbox-request', flow.id, goodInput)).body.state, 'awaiting_approval');
    // The fixed-term contract ended; the new appointment is a supplenza breve e saltuaria.
    const imported = await t.app.inject({ method: 'POST', url: '/api/v1/admin/imports?population=school_staff', payload: 'externalId,contractType\nT2,short_term_substitute\n', headers: { ...adminHeaders, 'content-type': 'text/csv' } });
    assert.equal(imported.json().updated, 1, imported.body);
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'ref.mi', PW), lang: 'it' });
    const id = (await ref.request('GET', '/api/v1/referent/requests')).body.requests.find((r: { username: string }) => r.username === 'ata2').id;
    const refused = await ref.request('POST', `/api/v1/referent/requests/${id}/approve`, {});
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'mailbox.requester_not_eligible');
    assert.match(refused.body.error.message, /supplenza breve e saltuaria/);
    const account = await t.ctx.db.kysely.selectFrom('accounts').select('email').where('username', '=', 'ata2').executeTakeFirstOrThrow();
    assert.equal(account.email, null, 'no mailbox was assigned');
    assert.ok(!(await outbox(t.ctx, 'mailbox_activation')).some((m) => m.recipient === 'ata2@example.net'));
    const rejected = await ref.request('POST', `/api/v1/referent/requests/${id}/reject`, { comment: 'Incarico di supplenza breve' });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
  });
});
