import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hash as argonHash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { verifyPassword } from '../../src/auth/passwords.js';
import { transitionAccount } from '../../src/accounts/lifecycle.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { counts, csv, postImport, ssha } from './helpers.js';

const header = ['externalId', 'givenName', 'familyName', 'birthDate', 'taxCode', 'amka', 'mobile', 'personalEmail', 'status'];

describe('registrar import through the admin API', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('refuses a request without the administrator token (401) and writes nothing', async () => {
    const r = await postImport(t, csv(header, ['30000001', 'Maria', 'Rossi', '', '', '', '', '', 'enrolled']), 'population=student', 'text/csv', {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'auth.unauthenticated');
    assert.equal((await counts(t)).persons, 0);
  });

  it('imports a CSV: people, accounts, audit; the report has exactly the API shape; a re-import changes nothing', async () => {
    const body = csv(
      header,
      ['30000001', 'Giulia', 'Bianchi', '2005-04-12', 'bncgli05d52h501b', '', '347 123 4567', 'Giulia.Bianchi@Example.ORG', 'enrolled'],
      ['30000002', 'Eleni', 'Papadopoulou', '2005-01-15', '', '15010523452', '+30 691 234 5678', '', 'provisional'],
      ['30000003', 'Marco', 'Ricci', '', '', '', '', '', 'ceased'],
    );
    const dry = await postImport(t, body, 'population=student&dryRun=true');
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body, { dryRun: true, created: 3, updated: 0, unchanged: 0, rejected: [] });
    assert.deepEqual(await counts(t), { persons: 0, accounts: 0, audit: 0 }, 'a dry run writes nothing');

    const r = await postImport(t, body, 'population=student');
    assert.deepEqual(r.body, { dryRun: false, created: 3, updated: 0, unchanged: 0, rejected: [] });
    const k = t.ctx.db.kysely;
    const p = await k.selectFrom('persons').selectAll().where('external_id', '=', '30000001').executeTakeFirstOrThrow();
    assert.equal(p.tax_code, 'BNCGLI05D52H501B');
    assert.equal(p.mobile, '+393471234567');
    assert.equal(p.personal_email, 'Giulia.Bianchi@example.org');
    const statuses = await k.selectFrom('accounts').select(['username', 'status']).orderBy('username').execute();
    assert.deepEqual(statuses, [
      { username: '30000001', status: 'pending_activation' },
      { username: '30000002', status: 'provisional' },
      { username: '30000003', status: 'expired' },
    ]);
    const audit = await k.selectFrom('audit_log').select(['actor', 'action']).execute();
    assert.equal(audit.length, 3);
    assert.ok(audit.every((a) => a.actor === 'import:admin:bootstrap' && a.action === 'person.created'));

    const before = await counts(t);
    const again = await postImport(t, body, 'population=student');
    assert.deepEqual(again.body, { dryRun: false, created: 0, updated: 0, unchanged: 3, rejected: [] });
    assert.deepEqual(await counts(t), before, 'a re-import writes nothing, not even audit entries');
  });

  it('moves the account through its lifecycle when the registrar status changes (provisional → enrolled → ceased), audited', async () => {
    const row = (status: string) => csv(header, ['30000100', 'Luca', 'Esposito', '', '', '', '', '', status]);
    assert.equal((await postImport(t, row('provisional'), 'population=student')).body.created, 1);
    const k = t.ctx.db.kysely;
    const status = async () => (await k.selectFrom('accounts').select('status').where('username_lower', '=', '30000100').executeTakeFirstOrThrow()).status;
    assert.equal(await status(), 'provisional');

    const dry = await postImport(t, row('enrolled'), 'population=student&dryRun=true');
    assert.deepEqual(dry.body, { dryRun: true, created: 0, updated: 1, unchanged: 0, rejected: [] });
    assert.equal(await status(), 'provisional', 'the dry run did not move the account');

    assert.equal((await postImport(t, row('enrolled'), 'population=student')).body.updated, 1);
    assert.equal(await status(), 'pending_activation');
    assert.equal((await postImport(t, row('ceased'), 'population=student')).body.updated, 1);
    assert.equal(await status(), 'expired');

    const acc = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/30000100', undefined, adminHeaders);
    const entries = acc.body.timeline.map((e: any) => [e.action, e.actor, e.details.from ?? null, e.details.to ?? null]);
    assert.deepEqual(entries, [
      ['person.created', 'import:admin:bootstrap', null, null],
      ['account.status_changed', 'import:admin:bootstrap', 'provisional', 'pending_activation'],
      ['person.updated', 'import:admin:bootstrap', null, null],
      ['account.status_changed', 'import:admin:bootstrap', 'pending_activation', 'expired'],
      ['person.updated', 'import:admin:bootstrap', null, null],
    ]);
    assert.equal(acc.body.person.registrarStatus, 'ceased');
  });

  it('rejects every kind of bad row with row number, externalId, field and code, and imports the good rows', async () => {
    const h = [...header, 'insuranceCountry', 'insuranceNumber', 'initialPasswordHash', 'contractType'];
    const good = ['30000200', 'Anna', 'Neri', '2004-06-30', 'NRENNA04H70H501Z', '30060412340', '347 555 0104', 'anna@example.org', 'enrolled', '', '', '', ''];
    const cases: Array<[string, string, string]> = [
      ['taxCode', 'RSSMRA80A01H501X', 'tax_code.invalid'],
      ['amka', '01019012342', 'amka.invalid'],
      ['birthDate', '2023-02-29', 'date.invalid'],
      ['mobile', '12', 'phone.invalid'],
      // A landline as the mobile: the activation PIN would be sent by SMS to it.
      ['mobile', '+39 02 1234 5678', 'phone.not_mobile'],
      ['personalEmail', 'anna@', 'email.invalid'],
      ['status', 'graduated-maybe', 'status.invalid'],
      ['insuranceCountry', 'XX', 'country.invalid'],
      ['initialPasswordHash', '5f4dcc3b5aa765d61d8327deb882cf99', 'password_hash.unsupported'],
      ['contractType', 'forever', 'contract_type.invalid'],
      ['givenName', '', 'field.required'],
    ];
    const rows = [good, ...cases.map(([field, value], i) => {
      const r = [...good];
      r[0] = `3000021${i}`;
      r[h.indexOf(field)] = value;
      if (field === 'insuranceCountry') r[h.indexOf('insuranceNumber')] = 'A1234567';
      return r;
    })];
    const r = await postImport(t, csv(h, ...rows), 'population=student');
    assert.equal(r.status, 200);
    assert.equal(r.body.created, 1);
    assert.deepEqual(
      r.body.rejected,
      cases.map(([field, , code], i) => ({ row: i + 2, externalId: `3000021${i}`, errors: [{ field, code }] })),
    );
    const stored = await t.ctx.db.kysely.selectFrom('persons').select('external_id').where('external_id', 'like', '3000021%').execute();
    assert.deepEqual(stored, [], 'no bad row was written, not even in part');
    assert.equal((await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', 'like', '3000021%').execute()).length, 0);
  });

  it('rejects an unknown column on every row, and a duplicate externalId within the file', async () => {
    const r = await postImport(t, csv(['externalId', 'givenName', 'familyName', 'nickname'], ['30000300', 'A', 'B', 'x'], ['30000301', 'C', 'D', '']), 'population=student');
    assert.deepEqual(r.body.rejected, [
      { row: 1, externalId: '30000300', errors: [{ field: 'nickname', code: 'field.unknown' }] },
      { row: 2, externalId: '30000301', errors: [{ field: 'nickname', code: 'field.unknown' }] },
    ]);
    assert.equal(r.body.created, 0);
    // A repeated column refuses the whole file (duplicate-columns.test.ts).
    const twice = await postImport(t, csv(['externalId', 'givenName', 'familyName', 'givenName'], ['30000305', 'A', 'B', 'C']), 'population=student');
    assert.equal(twice.status, 400);
    assert.equal(twice.body.error.code, 'import.duplicate_column');
    const d = await postImport(t, csv(['externalId', 'givenName', 'familyName'], ['30000310', 'A', 'B'], ['30000311', 'C', 'D'], ['30000310', 'E', 'F']), 'population=student');
    assert.equal(d.body.created, 2);
    assert.deepEqual(d.body.rejected, [{ row: 3, externalId: '30000310', errors: [{ field: 'externalId', code: 'field.duplicate' }] }]);
    const p = await t.ctx.db.kysely.selectFrom('persons').select('given_name').where('external_id', '=', '30000310').executeTakeFirstOrThrow();
    assert.equal(p.given_name, 'A', 'the first occurrence is kept');
  });

  it('reads semicolon-separated CSV with a byte-order mark and trailing empty columns from spreadsheets', async () => {
    const body = '\ufeffexternalId;givenName;familyName;mobile;;\n30000350;Chiara;D\'Angelo;"+39 347 000 0350";;\n30000351;Nikos;Pappas;;;x\n';
    const r = await postImport(t, body, 'population=student');
    assert.equal(r.body.created, 1, JSON.stringify(r.body));
    assert.deepEqual(r.body.rejected, [{ row: 2, externalId: '30000351', errors: [{ field: '', code: 'field.unknown' }] }]);
    const p = await t.ctx.db.kysely.selectFrom('persons').select(['family_name', 'mobile']).where('external_id', '=', '30000350').executeTakeFirstOrThrow();
    assert.deepEqual(p, { family_name: "D'Angelo", mobile: '+393470000350' });
  });

  it('imports NDJSON, with the population given per row when the query has none', async () => {
    const lines = [
      { population: 'student', externalId: '30000400', givenName: 'Sofia', familyName: 'Romano', entitlements: ['wifi', 'library'] },
      { population: 'staff', externalId: 'S400', givenName: 'Paolo', familyName: 'Conti', orgUnit: 'DIP-INF', role: 'professor', status: 'active' },
      {},
      'not an object',
      { externalId: '30000401', givenName: 'No', familyName: 'Population' },
      { population: 'wizards', externalId: 'W1', givenName: 'A', familyName: 'B' },
    ];
    const body = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n\n{broken json\n`;
    const r = await postImport(t, body, '', 'application/x-ndjson');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.created, 2);
    assert.deepEqual(r.body.rejected, [
      { row: 3, externalId: null, errors: [{ field: 'population', code: 'field.required' }, { field: 'externalId', code: 'field.required' }, { field: 'givenName', code: 'field.required' }, { field: 'familyName', code: 'field.required' }] },
      { row: 4, externalId: null, errors: [{ field: 'row', code: 'field.invalid' }, { field: 'population', code: 'field.required' }, { field: 'externalId', code: 'field.required' }, { field: 'givenName', code: 'field.required' }, { field: 'familyName', code: 'field.required' }] },
      { row: 5, externalId: '30000401', errors: [{ field: 'population', code: 'field.required' }] },
      { row: 6, externalId: 'W1', errors: [{ field: 'population', code: 'population.invalid' }] },
      { row: 7, externalId: null, errors: [{ field: 'row', code: 'field.invalid' }, { field: 'population', code: 'field.required' }, { field: 'externalId', code: 'field.required' }, { field: 'givenName', code: 'field.required' }, { field: 'familyName', code: 'field.required' }] },
    ]);
    const staff = await t.ctx.db.kysely.selectFrom('accounts').innerJoin('persons', 'persons.id', 'accounts.person_id').select(['username', 'status', 'org_unit']).where('external_id', '=', 'S400').executeTakeFirstOrThrow();
    assert.deepEqual(staff, { username: 'paolo.conti', status: 'pending_activation', org_unit: 'DIP-INF' });
    const s = await t.ctx.db.kysely.selectFrom('persons').select('entitlements').where('external_id', '=', '30000400').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(s.entitlements), ['library', 'wifi']);
  });

  it('gives colliding staff usernames a numeric suffix within one batch', async () => {
    const r = await postImport(t, csv(['externalId', 'givenName', 'familyName'], ['S500', 'Mario', 'Rossi'], ['S501', 'Mario', 'Rossi'], ['S502', 'Màrio', "Ros'si"]), 'population=staff');
    assert.equal(r.body.created, 3);
    const names = await t.ctx.db.kysely.selectFrom('accounts').innerJoin('persons', 'persons.id', 'accounts.person_id').select('username').where('external_id', 'in', ['S500', 'S501', 'S502']).orderBy('external_id').execute();
    assert.deepEqual(names.map((n) => n.username), ['mario.rossi', 'mario.rossi2', 'mario.rossi3']);
  });

  it('imports schools: ministry code as externalId, name and school year kept, no given/family name needed', async () => {
    const h = ['externalId', 'name', 'schoolYear', 'status'];
    const r = await postImport(t, csv(h, ['rmic8a100x', 'Istituto Comprensivo Via Roma', '2026/27', ''], ['NOTACODE', 'Scuola', '2026/27', ''], ['MIIS00900T', '', '2026/28', '']), 'population=school');
    assert.equal(r.body.created, 1);
    assert.deepEqual(r.body.rejected, [
      { row: 2, externalId: 'NOTACODE', errors: [{ field: 'externalId', code: 'field.invalid' }] },
      { row: 3, externalId: 'MIIS00900T', errors: [{ field: 'name', code: 'field.required' }, { field: 'schoolYear', code: 'field.invalid' }] },
    ]);
    const p = await t.ctx.db.kysely.selectFrom('persons').selectAll().where('population', '=', 'school').executeTakeFirstOrThrow();
    assert.equal(p.external_id, 'RMIC8A100X');
    assert.deepEqual(JSON.parse(p.extra), { name: 'Istituto Comprensivo Via Roma', schoolYear: '2026/27' });
    const a = await t.ctx.db.kysely.selectFrom('accounts').select(['username', 'status']).where('person_id', '=', p.id).executeTakeFirstOrThrow();
    assert.deepEqual(a, { username: 'rmic8a100x', status: 'pending_activation' });
    // A school row's name where a person is expected is refused, not dropped.
    const wrong = await postImport(t, csv(['externalId', 'givenName', 'familyName', 'name'], ['30000600', 'A', 'B', 'Scuola']), 'population=student');
    assert.deepEqual(wrong.body.rejected, [{ row: 1, externalId: '30000600', errors: [{ field: 'name', code: 'field.invalid' }] }]);
  });

  it('accepts initial password hashes in argon2, bcrypt and {SSHA} form, usable for activation', async () => {
    const hashes = {
      '30000700': await argonHash('Enrol-argon2', { memoryCost: 19456, timeCost: 2, parallelism: 1 }),
      '30000701': bcrypt.hashSync('Enrol-bcrypt', 4),
      '30000702': ssha('Enrol-ssha'),
    };
    const rows = Object.entries(hashes).map(([id, h]) => [id, 'Ada', 'Lovelace', h]);
    const r = await postImport(t, csv(['externalId', 'givenName', 'familyName', 'initialPasswordHash'], ...rows), 'population=student');
    assert.deepEqual(r.body, { dryRun: false, created: 3, updated: 0, unchanged: 0, rejected: [] });
    for (const [id, h] of Object.entries(hashes)) {
      const a = await t.ctx.db.kysely.selectFrom('accounts').select('password_hash').where('username_lower', '=', id).executeTakeFirstOrThrow();
      assert.equal(a.password_hash, h);
    }
    assert.equal((await verifyPassword(hashes['30000701'], 'Enrol-bcrypt')).ok, true);
    // The registrar issues a new enrolment password before activation: the account follows it.
    const renewed = bcrypt.hashSync('Enrol-renewed', 4);
    const re = await postImport(t, csv(['externalId', 'givenName', 'familyName', 'initialPasswordHash'], ['30000701', 'Ada', 'Lovelace', renewed]), 'population=student');
    assert.equal(re.body.updated, 1);
    const a1 = await t.ctx.db.kysely.selectFrom('accounts').select(['password_hash', 'version']).where('username_lower', '=', '30000701').executeTakeFirstOrThrow();
    assert.deepEqual(a1, { password_hash: renewed, version: 1 });
    // The imported enrolment password activates the account.
    const c = apiClient(t.app);
    const f = (await c.start('activation-password')).body;
    const done = await c.submit('activation-password', f.id, {
      population: 'student', username: '30000702', currentPassword: 'Enrol-ssha', newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42',
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.result.status, 'active');
    // A later import with the same status leaves the activated account alone.
    const again = await postImport(t, csv(['externalId', 'givenName', 'familyName', 'initialPasswordHash', 'role'], ['30000702', 'Ada', 'Lovelace', hashes['30000702'], 'tutor']), 'population=student');
    assert.equal(again.body.updated, 1);
    const acc = await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'password_hash']).where('username_lower', '=', '30000702').executeTakeFirstOrThrow();
    assert.equal(acc.status, 'active');
    assert.notEqual(acc.password_hash, hashes['30000702']);
  });

  it('reads the query strictly: a misspelt or unclear dryRun is refused and writes nothing', async () => {
    const before = await counts(t);
    const body = csv(header, ['30000900', 'Rita', 'Gialli', '', '', '', '', '', 'enrolled']);
    for (const [query, fields] of [
      ['population=student&dryRun=yes', { dryRun: 'field.invalid' }],
      ['population=student&dryRun', { dryRun: 'field.invalid' }],
      ['population=student&dryrun=true', { dryrun: 'field.unknown' }],
      ['population=student&dryRun=true&dryRun=false', { dryRun: 'field.invalid' }],
    ] as const) {
      const r = await postImport(t, body, query);
      assert.equal(r.status, 400, query);
      assert.equal(r.body.error.code, 'request.invalid', query);
      assert.deepEqual(r.body.error.fields, fields, query);
    }
    const dry = await postImport(t, body, 'population=student&dryRun=True');
    assert.deepEqual(dry.body, { dryRun: true, created: 1, updated: 0, unchanged: 0, rejected: [] });
    assert.deepEqual(await counts(t), before);
  });

  it('answers 415 for another content type, 400 for a bad population, 400 for a broken CSV', async () => {
    const j = await postImport(t, '{"externalId":"1"}', 'population=student', 'application/json');
    assert.equal(j.status, 415);
    assert.equal(j.body.error.code, 'request.unsupported_media_type');
    // A CSV sent as JSON by mistake is refused for its type too, not for failing to parse as JSON.
    const mislabelled = await postImport(t, csv(['externalId'], ['30000900']), 'population=student', 'application/json');
    assert.equal(mislabelled.status, 415);
    assert.equal(mislabelled.body.error.code, 'request.unsupported_media_type');
    const p = await postImport(t, csv(['externalId']), 'population=wizards');
    assert.equal(p.status, 400);
    assert.deepEqual(p.body.error.fields, { population: 'population.invalid' });
    const broken = await postImport(t, 'externalId,givenName,familyName\n"30000800,Anna,Neri\n', 'population=student&dryRun=true');
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.code, 'import.malformed');
  });

  it('two imports of the same new people at once (two administrators, two instances): both answer, each person once', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => [String(38_000_000 + i), 'Anna', 'Verdi', '', '', '', '', '', 'enrolled']);
    const body = csv(header, ...rows);
    const [a, b] = await Promise.all([postImport(t, body, 'population=student'), postImport(t, body, 'population=student')]);
    assert.equal(a.status, 200, JSON.stringify(a.body).slice(0, 300));
    assert.equal(b.status, 200, JSON.stringify(b.body).slice(0, 300));
    assert.equal(a.body.created + b.body.created, 1200, 'each person created once');
    assert.equal(a.body.unchanged + b.body.unchanged, 1200, 'and found unchanged by the other import');
    const stored = await t.ctx.db.kysely.selectFrom('persons').select('id').where('external_id', 'like', '38%').execute();
    assert.equal(stored.length, 1200);
  });
});

describe('registrar import: character sets, control characters, partial rows, re-enrolment', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const post = async (body: Buffer | string, query: string, type: string) => {
    const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/imports?${query}`, payload: body, headers: { ...adminHeaders, 'content-type': type } });
    return { status: r.statusCode, body: r.json() as any };
  };
  const person = (id: string) => t.ctx.db.kysely.selectFrom('persons').selectAll().where('external_id', '=', id).executeTakeFirst();
  const ndjson = (...rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

  it('decodes the declared charset (latin1, windows-1252), rejects text not valid in it, refuses an unknown charset', async () => {
    const latin1 = Buffer.concat([Buffer.from('externalId,givenName,familyName\n31000001,Nicol'), Buffer.from([0xf2]), Buffer.from(',Ferr'), Buffer.from([0xe0]), Buffer.from('\n')]);
    const r = await post(latin1, 'population=student', 'text/csv; charset=latin1');
    assert.deepEqual(r.body, { dryRun: false, created: 1, updated: 0, unchanged: 0, rejected: [] });
    assert.deepEqual([(await person('31000001'))?.given_name, (await person('31000001'))?.family_name], ['Nicolò', 'Ferrà']);

    // Windows-1252 (quoted charset, any case): 0x92 is a typographic apostrophe.
    const cp1252 = Buffer.concat([Buffer.from('{"externalId":"31000002","givenName":"Anna","familyName":"D'), Buffer.from([0x92]), Buffer.from('Amico"}\n')]);
    const w = await post(cp1252, 'population=student', 'application/x-ndjson; charset="Windows-1252"');
    assert.equal(w.body.created, 1, JSON.stringify(w.body));
    assert.equal((await person('31000002'))?.family_name, 'D\u2019Amico');

    // The same latin1 bytes declared (or defaulted to) UTF-8 are not valid: rejected, not stored with U+FFFD.
    const bad = Buffer.concat([Buffer.from('externalId,givenName,familyName\n31000003,Nicol'), Buffer.from([0xf2]), Buffer.from(',Neri\n31000004,Ok,Neri\n')]);
    for (const type of ['text/csv', 'text/csv; charset=utf-8']) {
      const u = await post(bad, 'population=student&dryRun=true', type);
      assert.deepEqual(u.body.rejected, [{ row: 1, externalId: '31000003', errors: [{ field: 'givenName', code: 'field.invalid_encoding' }] }], type);
      assert.equal(u.body.created, 1);
    }
    const u = await post(bad, 'population=student', 'text/csv');
    assert.equal(u.body.rejected.length, 1);
    assert.equal(await person('31000003'), undefined);

    const before = await counts(t);
    const unknown = await post('externalId,givenName,familyName\n31000005,A,B\n', 'population=student', 'text/csv; charset=shift_jis');
    assert.equal(unknown.status, 415);
    assert.equal(unknown.body.error.code, 'import.unsupported_charset');
    assert.match(unknown.body.error.message, /shift_jis/);
    assert.deepEqual(await counts(t), before);
  });

  it('rejects NUL and other control characters inside a text field, per field', async () => {
    const r = await post(
      ndjson(
        { externalId: '31000100', givenName: 'Ma\u0000ria', familyName: 'Rossi' },
        { externalId: '31000101', givenName: 'Maria', familyName: 'Ros\tsi', role: 'tutor\u0085' },
        { externalId: '31000102', givenName: 'Maria', familyName: 'Rossi\r\nX' },
        { externalId: '31000103', givenName: '\tMaria ', familyName: 'Rossi' },
      ),
      'population=student',
      'application/x-ndjson',
    );
    assert.deepEqual(r.body.rejected, [
      { row: 1, externalId: '31000100', errors: [{ field: 'givenName', code: 'field.control_character' }] },
      { row: 2, externalId: '31000101', errors: [{ field: 'familyName', code: 'field.control_character' }, { field: 'role', code: 'field.control_character' }] },
      { row: 3, externalId: '31000102', errors: [{ field: 'familyName', code: 'field.control_character' }] },
    ]);
    assert.equal(r.body.created, 1, 'surrounding whitespace, tabs included, is trimmed as before');
    assert.equal((await person('31000103'))?.given_name, 'Maria');
    assert.equal(await person('31000100'), undefined);
  });

  it('keeps the stored values of keys and columns a row leaves out; a partial row equal to what is stored is unchanged', async () => {
    const full = { externalId: '31000200', givenName: 'Giulia', familyName: 'Bianchi', taxCode: 'BNCGLI05D52H501B', mobile: '+393471234567', personalEmail: 'giulia@example.org', entitlements: ['wifi'], status: 'enrolled' };
    assert.equal((await post(ndjson(full), 'population=student', 'application/x-ndjson')).body.created, 1);
    const ceased = await post(ndjson({ externalId: '31000200', status: 'ceased' }), 'population=student', 'application/x-ndjson');
    assert.deepEqual(ceased.body, { dryRun: false, created: 0, updated: 1, unchanged: 0, rejected: [] });
    const p = (await person('31000200'))!;
    assert.deepEqual(
      [p.given_name, p.family_name, p.tax_code, p.mobile, p.personal_email, p.entitlements, p.registrar_status],
      ['Giulia', 'Bianchi', 'BNCGLI05D52H501B', '+393471234567', 'giulia@example.org', '["wifi"]', 'ceased'],
    );
    // The same partial row again, or one that gives stored values only, changes nothing.
    const before = await counts(t);
    for (const row of [{ externalId: '31000200', status: 'ceased' }, { externalId: '31000200', mobile: '347 123 4567', givenName: 'Giulia' }]) {
      const again = await post(ndjson(row), 'population=student', 'application/x-ndjson');
      assert.deepEqual(again.body, { dryRun: false, created: 0, updated: 0, unchanged: 1, rejected: [] }, JSON.stringify(row));
    }
    // A CSV with fewer columns: the missing ones are kept; the full row again is unchanged.
    const c = await post(csv(['externalId', 'mobile'], ['31000200', '347 999 0000']), 'population=student', 'text/csv');
    assert.equal(c.body.updated, 1);
    assert.deepEqual([(await person('31000200'))!.mobile, (await person('31000200'))!.tax_code], ['+393479990000', 'BNCGLI05D52H501B']);
    assert.equal((await post(csv(['externalId', 'mobile'], ['31000200', '347 999 0000']), 'population=student', 'text/csv')).body.unchanged, 1);
    assert.equal((await counts(t)).persons, before.persons);
    // A value given empty (or null) clears the field.
    const cleared = await post(ndjson({ externalId: '31000200', mobile: null, personalEmail: '' }), 'population=student', 'application/x-ndjson');
    assert.equal(cleared.body.updated, 1);
    assert.deepEqual([(await person('31000200'))!.mobile, (await person('31000200'))!.personal_email, (await person('31000200'))!.tax_code], [null, null, 'BNCGLI05D52H501B']);
    // A new person still needs its names; rejected rows keep file order.
    const n = await post(ndjson({ externalId: '31000201', status: 'enrolled' }, { externalId: 'bad id' }, { externalId: '31000202', givenName: 'A', familyName: 'B' }), 'population=student', 'application/x-ndjson');
    assert.deepEqual(n.body.rejected, [
      { row: 1, externalId: '31000201', errors: [{ field: 'givenName', code: 'field.required' }, { field: 'familyName', code: 'field.required' }] },
      { row: 2, externalId: 'bad id', errors: [{ field: 'externalId', code: 'field.invalid' }] },
    ]);
    assert.equal(n.body.created, 1);
    assert.equal(await person('31000201'), undefined);
  });

  it('gives an account suspended because its record ceased back the status it had when the record is enrolled again', async () => {
    const k = t.ctx.db.kysely;
    const row = (id: string, status: string) => csv(['externalId', 'givenName', 'familyName', 'status'], [id, 'Luca', 'Esposito', status]);
    const account = (id: string) => k.selectFrom('accounts').select(['id', 'person_id', 'status', 'version']).where('username_lower', '=', id).executeTakeFirstOrThrow();
    for (const id of ['31000300', '31000301']) {
      await post(row(id, 'enrolled'), 'population=student', 'text/csv');
      await k.updateTable('accounts').set({ status: 'active' }).where('username_lower', '=', id).execute();
    }
    // 31000301 is then suspended by an administrator, for another reason.
    const a1 = await account('31000301');
    await k.transaction().execute((tx) =>
      transitionAccount(tx, { id: a1.id, personId: a1.person_id, status: 'active', version: a1.version }, 'suspended', { actor: 'admin:ops', reason: 'admin.abuse', at: new Date(), provisioning: t.ctx }),
    );
    for (const id of ['31000300', '31000301']) await post(row(id, 'ceased'), 'population=student', 'text/csv');
    assert.deepEqual([(await account('31000300')).status, (await account('31000301')).status], ['suspended', 'suspended']);

    const dry = await post(row('31000300', 'enrolled'), 'population=student&dryRun=true', 'text/csv');
    assert.equal(dry.body.updated, 1);
    assert.equal((await account('31000300')).status, 'suspended', 'a dry run moves nothing');
    for (const id of ['31000300', '31000301']) await post(row(id, 'enrolled'), 'population=student', 'text/csv');
    assert.equal((await account('31000300')).status, 'active', 'the registrar’s suspension ends with the re-enrolment');
    assert.equal((await account('31000301')).status, 'suspended', 'an administrator’s suspension stays');
    const last = await k.selectFrom('audit_log').select(['actor', 'details']).where('account_id', '=', (await account('31000300')).id).where('action', '=', 'account.status_changed').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(last.actor, 'import:admin:bootstrap');
    assert.deepEqual(JSON.parse(last.details), { from: 'suspended', to: 'active', reason: 'registrar status ceased -> enrolled' });
  });
  it('also ends the suspension the expire-ceased job made (back to active, or to pending activation if never activated)', async () => {
    const k = t.ctx.db.kysely;
    const row = (id: string, status: string) => csv(['externalId', 'givenName', 'familyName', 'status'], [id, 'Sara', 'Greco', status]);
    const status = async (id: string) => (await k.selectFrom('accounts').select('status').where('username_lower', '=', id).executeTakeFirstOrThrow()).status;
    await post(row('31000400', 'enrolled'), 'population=student', 'text/csv');
    await post(row('31000401', 'enrolled'), 'population=student', 'text/csv');
    await k.updateTable('accounts').set({ status: 'active' }).where('username_lower', '=', '31000400').execute();
    // The record ceased without the import moving the accounts (as after an activation in between).
    await k.updateTable('persons').set({ registrar_status: 'ceased', source_hash: 'x' }).where('external_id', 'in', ['31000400', '31000401']).execute();
    const job = await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/expire-ceased', headers: adminHeaders });
    assert.equal(job.statusCode, 200, job.body);
    assert.deepEqual([await status('31000400'), await status('31000401')], ['suspended', 'suspended']);
    for (const id of ['31000400', '31000401']) assert.equal((await post(row(id, 'enrolled'), 'population=student', 'text/csv')).body.updated, 1);
    assert.deepEqual([await status('31000400'), await status('31000401')], ['active', 'pending_activation']);
  });

  it('reads an empty status cell (or an NDJSON "" or null) as not given: a ceased or provisional record keeps its status, a new one gets the default', async () => {
    const k = t.ctx.db.kysely;
    const h = ['externalId', 'givenName', 'familyName', 'status'];
    const state = async (id: string) => {
      const r = await k.selectFrom('persons').innerJoin('accounts', 'accounts.person_id', 'persons.id').select(['registrar_status', 'status']).where('external_id', '=', id).executeTakeFirstOrThrow();
      return [r.registrar_status, r.status];
    };
    await post(csv(h, ['31000500', 'Giulia', 'Bianchi', 'enrolled'], ['31000501', 'Eleni', 'Papadopoulou', 'provisional']), 'population=student', 'text/csv');
    await k.updateTable('accounts').set({ status: 'active' }).where('username_lower', '=', '31000500').execute();
    await post(csv(h, ['31000500', 'Giulia', 'Bianchi', 'ceased']), 'population=student', 'text/csv');
    assert.deepEqual([await state('31000500'), await state('31000501')], [['ceased', 'suspended'], ['provisional', 'provisional']]);

    const before = await counts(t);
    const blank = await post(csv(h, ['31000500', 'Giulia', 'Bianchi', ''], ['31000501', 'Eleni', 'Papadopoulou', ' ']), 'population=student', 'text/csv');
    assert.deepEqual(blank.body, { dryRun: false, created: 0, updated: 0, unchanged: 2, rejected: [] });
    for (const status of ['', null]) {
      const n = await post(ndjson({ externalId: '31000500', givenName: 'Giulia', familyName: 'Bianchi', status }, { externalId: '31000501', status }), 'population=student', 'application/x-ndjson');
      assert.deepEqual(n.body, { dryRun: false, created: 0, updated: 0, unchanged: 2, rejected: [] }, JSON.stringify(status));
    }
    assert.deepEqual(await counts(t), before, 'nothing written, not even audit entries');
    // Another field changes; the status stays the stored one.
    const renamed = await post(csv(h, ['31000500', 'Giulia Maria', 'Bianchi', '']), 'population=student', 'text/csv');
    assert.equal(renamed.body.updated, 1);
    assert.deepEqual([await state('31000500'), await state('31000501')], [['ceased', 'suspended'], ['provisional', 'provisional']]);
    assert.equal((await person('31000500'))?.given_name, 'Giulia Maria');

    // A new person with an empty status is enrolled, as without the column; the same file again changes nothing.
    const fresh = csv(h, ['31000502', 'Marco', 'Ricci', '']);
    assert.equal((await post(fresh, 'population=student', 'text/csv')).body.created, 1);
    assert.deepEqual(await state('31000502'), ['enrolled', 'pending_activation']);
    assert.deepEqual((await post(fresh, 'population=student', 'text/csv')).body, { dryRun: false, created: 0, updated: 0, unchanged: 1, rejected: [] });
  });

  it('splits a CSV by the one separator its header uses: commas in unquoted values of a semicolon file stay in the value', async () => {
    const hash = await argonHash('Enrol-argon2', { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const semicolons = `externalId;givenName;familyName;initialPasswordHash\n31000600;José;Núñez, Jr;${hash}\n31000601;Anna;Rossi;\n`;
    const r = await post(semicolons, 'population=student', 'text/csv');
    assert.deepEqual(r.body, { dryRun: false, created: 2, updated: 0, unchanged: 0, rejected: [] });
    const a = await t.ctx.db.kysely.selectFrom('accounts').select('password_hash').where('username_lower', '=', '31000600').executeTakeFirstOrThrow();
    assert.equal(a.password_hash, hash);
    assert.equal((await person('31000600'))?.family_name, 'Núñez, Jr');
    assert.equal((await post(semicolons, 'population=student', 'text/csv')).body.unchanged, 2, 'the same file again changes nothing');

    // A comma file keeps a semicolon in a value; a header quoted with a semicolon inside is still a comma file; tabs too.
    const commas = '"externalId","givenName","familyName;"\n31000602,Chiara,D\'Angelo;Neri\n';
    assert.deepEqual((await post(commas, 'population=student&dryRun=true', 'text/csv')).body.rejected, [{ row: 1, externalId: '31000602', errors: [{ field: 'familyName;', code: 'field.unknown' }] }]);
    const plain = await post('externalId,givenName,familyName\n31000602,Chiara,D\'Angelo;Neri\n', 'population=student', 'text/csv');
    assert.equal(plain.body.created, 1, JSON.stringify(plain.body));
    assert.equal((await person('31000602'))?.family_name, "D'Angelo;Neri");
    const tabs = await post('externalId\tgivenName\tfamilyName\n31000603\tNikos\tPappas, Jr; II\n', 'population=student', 'text/csv');
    assert.equal(tabs.body.created, 1, JSON.stringify(tabs.body));
    assert.equal((await person('31000603'))?.family_name, 'Pappas, Jr; II');
  });

  it('accepts a tax code, an AMKA and a mobile written in groups (spaces, dashes, Unicode dashes) and stores them normalised', async () => {
    const h = ['externalId', 'givenName', 'familyName', 'birthDate', 'taxCode', 'amka', 'mobile'];
    const body = csv(
      h,
      ['31000700', 'Giulia', 'Bianchi', '2005-04-12', 'BNC GLI 05D52 H501B', '', '347\u2013123\u20134567'],
      ['31000701', 'Eleni', 'Papadopoulou', '2005-01-15', '', '150105 23452', '+30\u2014691\u2014234\u20145678'],
      ['31000702', 'Eleni', 'Pappa', '2005-01-15', '', '150105-23460', '347\u2212555\u22120104'],
      ['31000703', 'Nikos', 'Pappas', '', '', '', '347\u2011555\u20110105'],
    );
    const r = await post(body, 'population=student', 'text/csv');
    assert.deepEqual(r.body, { dryRun: false, created: 4, updated: 0, unchanged: 0, rejected: [] });
    const stored = await t.ctx.db.kysely.selectFrom('persons').select(['tax_code', 'amka', 'mobile']).where('external_id', 'in', ['31000700', '31000701', '31000702', '31000703']).orderBy('external_id').execute();
    assert.deepEqual(stored, [
      { tax_code: 'BNCGLI05D52H501B', amka: null, mobile: '+393471234567' },
      { tax_code: null, amka: '15010523452', mobile: '+306912345678' },
      { tax_code: null, amka: '15010523460', mobile: '+393475550104' },
      { tax_code: null, amka: null, mobile: '+393475550105' },
    ]);
    assert.equal((await post(body, 'population=student', 'text/csv')).body.unchanged, 4, 'the same file again changes nothing');
  });

  it('rejects an AMKA that contradicts the birth date (in the row or stored) and a birth date in the future, writing nothing of the row', async () => {
    const h = ['externalId', 'givenName', 'familyName', 'birthDate', 'amka'];
    const r = await post(
      csv(h, ['31000800', 'Eleni', 'Papadopoulou', '2005-01-16', '15010523452'], ['31000801', 'Nikos', 'Pappas', '2026-11-24', ''], ['31000802', 'Eleni', 'Pappa', '2005-01-15', '150105 23452']),
      'population=student',
      'text/csv',
    );
    assert.deepEqual(r.body, {
      dryRun: false, created: 1, updated: 0, unchanged: 0,
      rejected: [
        { row: 1, externalId: '31000800', errors: [{ field: 'amka', code: 'amka.birth_date_mismatch' }] },
        { row: 2, externalId: '31000801', errors: [{ field: 'birthDate', code: 'date.invalid' }] },
      ],
    });
    assert.deepEqual([await person('31000800'), await person('31000801')], [undefined, undefined]);

    // A row giving one of the two is checked against the other one stored, and leaves the person as it was.
    const before = await person('31000802');
    const partial = await post(ndjson({ externalId: '31000802', amka: '01019012341', role: 'tutor' }, { externalId: '31000802', birthDate: '1990-01-01' }), 'population=student', 'application/x-ndjson');
    assert.deepEqual(partial.body.rejected, [
      { row: 1, externalId: '31000802', errors: [{ field: 'amka', code: 'amka.birth_date_mismatch' }] },
      { row: 2, externalId: '31000802', errors: [{ field: 'externalId', code: 'field.duplicate' }] },
    ]);
    const alone = await post(ndjson({ externalId: '31000802', birthDate: '1990-01-01' }), 'population=student', 'application/x-ndjson');
    assert.deepEqual(alone.body.rejected, [{ row: 1, externalId: '31000802', errors: [{ field: 'amka', code: 'amka.birth_date_mismatch' }] }]);
    assert.deepEqual(await person('31000802'), before);
    // Both changed together, consistently: updated.
    const both = await post(ndjson({ externalId: '31000802', birthDate: '1990-01-01', amka: '01019012341' }), 'population=student', 'application/x-ndjson');
    assert.deepEqual(both.body, { dryRun: false, created: 0, updated: 1, unchanged: 0, rejected: [] });
  });

  it('skips rows made of separators only (blank spreadsheet lines) without a report entry; later rows keep their numbers', async () => {
    const semicolons = 'externalId;givenName;familyName;status\n31000900;Anna;Neri;enrolled\n;;;\n31000901;Luca;Neri;\n ; ;;\n;;\nbad id;Eva;Neri;\n';
    const r = await post(semicolons, 'population=student', 'text/csv');
    assert.deepEqual(r.body, { dryRun: false, created: 2, updated: 0, unchanged: 0, rejected: [{ row: 6, externalId: 'bad id', errors: [{ field: 'externalId', code: 'field.invalid' }] }] });
    const commas = 'externalId,givenName,familyName,status\n,,,\n31000902,Sara,Neri,enrolled\n,,,,,\nbad id,Eva,Neri,\n';
    const c = await post(commas, 'population=student', 'text/csv');
    assert.deepEqual(c.body, { dryRun: false, created: 1, updated: 0, unchanged: 0, rejected: [{ row: 4, externalId: 'bad id', errors: [{ field: 'externalId', code: 'field.invalid' }] }] });
    const only = await post('externalId;givenName;familyName\n;;\n;;\n', 'population=student', 'text/csv');
    assert.deepEqual(only.body, { dryRun: false, created: 0, updated: 0, unchanged: 0, rejected: [] });
  });
});
