import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AppContext } from '../../src/app/context.js';
import { nameKeyColumns } from '../../src/domain/name-key.js';
import { schoolMailboxesJob } from '../../src/jobs/school-mailboxes.js';
import { mailboxDue, mailboxEffectiveDate, schoolYearStart } from '../../src/mailboxes/school-year.js';
import { TestClock } from '../../src/ports/clock.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken, timelineActions } from './helpers.js';

describe('the 1 September rule (pure)', () => {
  const cases: Array<[string, string, string | null]> = [
    ['2026/27', '2026-07-15T10:00:00Z', '2026-09-01'],
    ['2026/27', '2026-09-01T10:00:00Z', '2026-09-01'],
    ['2026/27', '2026-09-10T10:00:00Z', '2026-09-10'],
    ['2026/2027', '2026-03-02T10:00:00Z', '2026-09-01'],
    ['2025/26', '2026-07-01T10:00:00Z', '2026-07-01'],
    ['2027/28', '2026-11-23T10:00:00Z', '2027-09-01'],
    // 22:30 UTC on 31 August is already 1 September in Italy.
    ['2026/27', '2026-08-31T22:30:00Z', '2026-09-01'],
    ['2026/28', '2026-07-01T10:00:00Z', null],
    ['prossimo anno', '2026-07-01T10:00:00Z', null],
  ];
  for (const [year, imported, expected] of cases) {
    it(`${year} imported ${imported} → ${expected ?? 'invalid'}`, () => assert.equal(mailboxEffectiveDate(year, new Date(imported)), expected));
  }
  it('reads school years and tells when a mailbox is due', () => {
    assert.equal(schoolYearStart('2026/27'), 2026);
    assert.equal(schoolYearStart('1999/00'), 1999);
    assert.equal(mailboxDue('2026/27', new Date('2026-07-10T08:00:00Z'), new Date('2026-08-31T21:59:59Z')), false);
    assert.equal(mailboxDue('2026/27', new Date('2026-07-10T08:00:00Z'), new Date('2026-08-31T22:00:00Z')), true);
  });
});

/** A school as the import leaves it: a person record of population `school`, without an account. */
async function importSchool(ctx: AppContext, code: string, schoolYear: string, headEmail: string | null, orgUnit: string | null = null) {
  const now = ctx.clock.now().toISOString();
  await ctx.db.kysely
    .insertInto('persons')
    .values({
      id: randomUUID(),
      population: 'school',
      external_id: code,
      given_name: '',
      family_name: '',
      ...nameKeyColumns('', ''),
      birth_date: null,
      tax_code: null,
      amka: null,
      insurance_country: null,
      insurance_number: null,
      mobile: null,
      personal_email: headEmail,
      personal_email_lower: headEmail?.toLowerCase() ?? null,
      registrar_status: 'active',
      org_unit: orgUnit,
      role: null,
      contract_type: null,
      entitlements: '[]',
      extra: JSON.stringify({ name: `Istituto ${code}`, schoolYear }),
      source_hash: 'import',
      created_at: now,
      updated_at: now,
    })
    .execute();
}

const codes = (xs: Array<{ externalId: string }>) => xs.map((x) => x.externalId);

describe('school mailboxes job', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ clock: new TestClock(new Date('2026-07-10T08:00:00Z')) });
  });
  after(() => t.close());

  it('opens each school’s mailbox on 1 September of its school year, across school years', async () => {
    await importSchool(t.ctx, 'MIIC8AB001', '2026/27', 'dirigente.a@example.net');
    await importSchool(t.ctx, 'RMIC8CD002', '2025/26', 'dirigente.b@example.net');
    await importSchool(t.ctx, 'NAIC8EF003', '2027/28', 'dirigente.c@example.net');
    await importSchool(t.ctx, 'TOIC8GH004', '26-27', null);

    const dry = await schoolMailboxesJob.run(t.ctx, { dryRun: true });
    assert.deepEqual(codes(dry.opened), ['RMIC8CD002']);
    assert.equal((await t.ctx.db.kysely.selectFrom('accounts').select('id').execute()).length, 0);
    assert.equal((await outbox(t.ctx)).length, 0);

    // July 2026: only the school whose year began already (2025/26) opens at once.
    const july = await schoolMailboxesJob.run(t.ctx, { dryRun: false });
    assert.deepEqual(july.opened, [{ externalId: 'RMIC8CD002', address: 'rmic8cd002@istruzione.unidemo.example.org', effectiveFrom: '2026-07-10', headNotified: true }]);
    assert.deepEqual(july.waiting, [
      { externalId: 'MIIC8AB001', effectiveFrom: '2026-09-01' },
      { externalId: 'NAIC8EF003', effectiveFrom: '2027-09-01' },
    ]);
    assert.deepEqual(july.invalid, [{ externalId: 'TOIC8GH004', schoolYear: '26-27' }]);
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), []);

    // The last evening of August in Italy: not yet.
    t.clock.set('2026-08-31T21:59:00Z');
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), []);
    // Midnight of 1 September in Italy.
    t.clock.set('2026-08-31T22:00:00Z');
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), ['MIIC8AB001']);
    // The next school year's school waits a whole year.
    t.clock.set('2027-08-30T10:00:00Z');
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), []);
    t.clock.set('2027-09-01T06:00:00Z');
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), ['NAIC8EF003']);

    const mails = await outbox(t.ctx, 'school_mailbox_activation');
    assert.deepEqual(mails.map((m) => m.recipient), ['dirigente.b@example.net', 'dirigente.a@example.net', 'dirigente.c@example.net']);
    assert.match(mails[1]!.text, /^Al Dirigente scolastico di Istituto MIIC8AB001,\n\nLa casella/);
    // The date written out, the first of the month as an ordinal.
    assert.match(mails[1]!.text, /miic8ab001@istruzione\.unidemo\.example\.org, è attiva dal 1° settembre 2026\./);
    assert.match(mails[0]!.text, /rmic8cd002@istruzione\.unidemo\.example\.org, è attiva dal 10 luglio 2026\./);
    assert.equal(mails[1]!.subject, 'Università Demo: casella di posta istituzionale di Istituto MIIC8AB001');
    assert.match(mails[1]!.text, /\n--\n\nUniversità Demo$/);
    assert.match(mails[1]!.html!, /^<!doctype html><html lang="it">/);
    // A school that never had a password has none to lose.
    assert.ok(mails.every((m) => !/sostituirà/.test(m.text)));
    assert.ok(mails.every((m) => m.sensitive));
  });

  it('sends the credentials to the head through a one-time link', async () => {
    const mail = (await outbox(t.ctx, 'school_mailbox_activation')).find((m) => m.recipient === 'dirigente.c@example.net')!;
    const link = /http:\/\/localhost:3000(\/mailbox\/activate\?token=\S+)/.exec(mail.text)![1]!;
    const before = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'password_hash']).where('username_lower', '=', 'naic8ef003').executeTakeFirstOrThrow();
    assert.deepEqual(before, { status: 'pending_activation', password_hash: null });

    // Through the API: a wrong token is refused; the right one with a weak password uses nothing up.
    const c = apiClient(t.app, { lang: 'en' });
    const token = new URL(link, 'http://localhost').searchParams.get('token')!;
    const wrong = await c.request('POST', '/api/v1/mailbox/activate', { token: `${token.split('.')[0]}.${'x'.repeat(43)}`, newPassword: 'Scuola-Nuova-1', newPasswordConfirm: 'Scuola-Nuova-1' });
    assert.equal(wrong.status, 410);
    assert.equal(wrong.body.error.code, 'mailbox.link_invalid');
    const weak = await c.request('POST', '/api/v1/mailbox/activate', { token, newPassword: 'Scuola-Nuova-1', newPasswordConfirm: 'Scuola-Nuova-2' });
    assert.equal(weak.status, 422);
    assert.equal(weak.body.error.code, 'password.mismatch');

    const b = new FormBrowser(t.app, 'it');
    await b.get(link);
    assert.equal(b.status, 200);
    await b.submit({ newPassword: 'Scuola-Nuova-1', newPasswordConfirm: 'Scuola-Nuova-1' });
    assert.equal(b.status, 200, b.text());
    assert.match(b.text(), /Il tuo indirizzo è naic8ef003@istruzione\.unidemo\.example\.org/);
    const used = await c.request('POST', '/api/v1/mailbox/activate', { token, newPassword: 'Scuola-Nuova-1', newPasswordConfirm: 'Scuola-Nuova-1' });
    assert.equal(used.status, 410);

    const login = await c.start('login');
    const ok = await c.submit('login', login.body.id, { username: 'NAIC8EF003', password: 'Scuola-Nuova-1' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const actions = await timelineActions(t.app, 'naic8ef003');
    for (const a of ['mailbox.school_opened', 'account.status_changed', 'mailbox.activated']) assert.ok(actions.includes(a), actions.join());

    // A new link for the school, now that it signs in with a password: the email says that one stops working.
    t.clock.advance(60_000);
    assert.equal((await apiClient(t.app).request('POST', '/api/v1/admin/accounts/NAIC8EF003/mailbox-link', {}, adminHeaders)).status, 200);
    const again = (await outbox(t.ctx, 'school_mailbox_activation')).filter((m) => m.recipient === 'dirigente.c@example.net').at(-1)!;
    assert.match(again.text, /è attiva dal 1° settembre 2027\./);
    assert.match(again.text, /La password che sceglierai sostituirà quella del tuo account: quella che usi ora non funzionerà più\./);
  });

  it('the link expires after the configured hours', async () => {
    const mail = (await outbox(t.ctx, 'school_mailbox_activation')).find((m) => m.recipient === 'dirigente.a@example.net')!;
    const link = /http:\/\/localhost:3000(\/mailbox\/activate\?token=\S+)/.exec(mail.text)![1]!;
    // Issued on 1 September 2026; the clock is now a year later. The page speaks the email's
    // language (the link says it), whatever the browser asks for.
    assert.match(link, /&lang=it$/);
    const r = await t.app.inject({ method: 'GET', url: link, headers: { accept: 'text/html', 'accept-language': 'el' } });
    assert.equal(r.statusCode, 410);
    assert.match(r.body, /link di attivazione non è più valido/);
  });
});

describe('recovery of a school’s credentials', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ clock: new TestClock(new Date('2026-09-15T08:00:00Z')) });
    await importOffices(t.app, OFFICES);
  });
  after(() => t.close());

  it('overlapping runs open each mailbox once', async () => {
    await importSchool(t.ctx, 'BOIC8XY005', '2026/27', 'dirigente.e@example.net');
    const overlapping = await Promise.all([schoolMailboxesJob.run(t.ctx, { dryRun: false }), schoolMailboxesJob.run(t.ctx, { dryRun: false })]);
    assert.deepEqual(overlapping.flatMap((r) => codes(r.opened)), ['BOIC8XY005']);
    const accounts = await t.ctx.db.kysely.selectFrom('accounts').select('email').where('username_lower', 'like', 'boic8xy005%').execute();
    assert.deepEqual(accounts, [{ email: 'boic8xy005@istruzione.unidemo.example.org' }]);
    assert.equal((await outbox(t.ctx, 'school_mailbox_activation')).length, 1);
    await t.ctx.db.kysely.deleteFrom('outbox').execute();
  });

  it('goes through the referent of the school’s office or an administrator, as a new one-time link to the head', async () => {
    await importSchool(t.ctx, 'MIIC8ZZ009', '2026/27', 'preside@example.net', 'AT-MI');
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), ['MIIC8ZZ009']);
    const links = async () => (await outbox(t.ctx, 'school_mailbox_activation')).map((m) => /http:\/\/localhost:3000(\/mailbox\/activate\?token=\S+)/.exec(m.text)![1]!);
    const [first] = await links();

    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-AT', username: 'sara.neri', email: 'sara.neri@unidemo.example.org', status: 'active', password: 'Referente-1', orgUnit: 'AT-MI' });
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DIP', username: 'luca.bianchi', email: 'luca.bianchi@unidemo.example.org', status: 'active', password: 'Referente-1', orgUnit: 'DIP-ISTR' });
    await nameReferent(t.app, 'AT-MI', 'sara.neri');
    await nameReferent(t.app, 'DIP-ISTR', 'luca.bianchi');

    const outsider = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', 'Referente-1') });
    const refused = await outsider.request('POST', '/api/v1/referent/accounts/miic8zz009/mailbox-link', {});
    assert.equal(refused.status, 404);
    assert.equal((await outbox(t.ctx, 'school_mailbox_activation')).length, 1);

    const referent = apiClient(t.app, { bearer: await sessionToken(t.app, 'sara.neri', 'Referente-1') });
    const resent = await referent.request('POST', '/api/v1/referent/accounts/miic8zz009/mailbox-link', {});
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    assert.deepEqual(resent.body, { sentTo: 'p***@example.net' });
    const second = (await links()).find((l) => l !== first)!;
    assert.ok(second);
    // The earlier link stops working; the new one opens the form.
    assert.equal((await t.app.inject({ method: 'GET', url: first })).statusCode, 410);
    assert.equal((await t.app.inject({ method: 'GET', url: second })).statusCode, 200);

    const admin = await apiClient(t.app).request('POST', '/api/v1/admin/accounts/MIIC8ZZ009/mailbox-link', {}, adminHeaders);
    assert.equal(admin.status, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: second })).statusCode, 410);
    const it = apiClient(t.app, { lang: 'it' });
    const noAddress = await it.request('POST', '/api/v1/admin/accounts/sara.neri/mailbox-link', {}, adminHeaders);
    assert.equal(noAddress.status, 409);
    assert.equal(noAddress.body.error.code, 'mailbox.no_recipient');
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S1', username: 'senza.casella', personalEmail: 'sc@example.net', status: 'active' });
    const notOpened = await it.request('POST', '/api/v1/admin/accounts/senza.casella/mailbox-link', {}, adminHeaders);
    assert.equal(notOpened.status, 409);
    assert.match(notOpened.body.error.message, /non ha ancora una casella/);
    const actions = await timelineActions(t.app, 'miic8zz009');
    assert.equal(actions.filter((a) => a === 'mailbox.link_resent').length, 2);
  });
});

describe('school mailboxes of schools that are not (or no longer) open', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ clock: new TestClock(new Date('2026-11-10T08:00:00Z')) });
  });
  after(() => t.close());

  it('opens none for a school closed, suspended or not yet confirmed by the ministry', async () => {
    const csv = [
      'externalId,name,schoolYear,personalEmail,status',
      'TOIC81100A,Istituto chiuso,2026/27,preside.a@example.net,ceased',
      'TOIC82200B,Istituto sospeso,2026/27,preside.b@example.net,suspended',
      'TOIC83300C,Istituto in ipotesi,2026/27,preside.c@example.net,provisional',
      'TOIC84400D,Istituto aperto,2026/27,preside.d@example.net,active',
    ].join('\n');
    const imported = await t.app.inject({ method: 'POST', url: '/api/v1/admin/imports?population=school', payload: csv, headers: { ...adminHeaders, 'content-type': 'text/csv' } });
    assert.equal(imported.json().created, 4, imported.body);
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: true })).opened), ['TOIC84400D']);
    const run = await schoolMailboxesJob.run(t.ctx, { dryRun: false });
    assert.deepEqual(codes(run.opened), ['TOIC84400D']);
    assert.deepEqual((await outbox(t.ctx, 'school_mailbox_activation')).map((m) => m.recipient), ['preside.d@example.net']);
    const accounts = await t.ctx.db.kysely.selectFrom('accounts').select(['username', 'status', 'email']).orderBy('username').execute();
    assert.deepEqual(accounts, [
      { username: 'toic81100a', status: 'expired', email: null },
      { username: 'toic82200b', status: 'provisional', email: null },
      { username: 'toic83300c', status: 'provisional', email: null },
      { username: 'toic84400d', status: 'pending_activation', email: 'toic84400d@istruzione.unidemo.example.org' },
    ]);

    // The ministry confirms the school: its mailbox opens at the next run.
    const confirmed = await t.app.inject({ method: 'POST', url: '/api/v1/admin/imports?population=school', payload: 'externalId,status\nTOIC83300C,active\n', headers: { ...adminHeaders, 'content-type': 'text/csv' } });
    assert.equal(confirmed.json().updated, 1, confirmed.body);
    assert.deepEqual(codes((await schoolMailboxesJob.run(t.ctx, { dryRun: false })).opened), ['TOIC83300C']);
  });
});
