import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, timelineActions } from './helpers.js';

describe('offices and referents', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.mailboxes.orgUnitTypes = [...c.mailboxes.orgUnitTypes, 'Ufficio scolastico regionale'])) });
  });
  after(() => t.close());

  it('imports offices from CSV: dry run first, then for real, then unchanged', async () => {
    const dry = await importOffices(t.app, OFFICES, '?dryRun=true');
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body, { dryRun: true, created: 3, updated: 0, unchanged: 0, rejected: [] });
    assert.equal((await t.ctx.db.kysely.selectFrom('org_units').select('code').execute()).length, 0);
    const real = await importOffices(t.app, OFFICES);
    assert.deepEqual(real.body, { dryRun: false, created: 3, updated: 0, unchanged: 0, rejected: [] });
    const again = await importOffices(t.app, OFFICES);
    assert.deepEqual(again.body, { dryRun: false, created: 0, updated: 0, unchanged: 3, rejected: [] });
    const dip = await t.ctx.db.kysely.selectFrom('org_units').selectAll().where('code', '=', 'DIP-ISTR').executeTakeFirstOrThrow();
    assert.equal(dip.parent, 'DGSIS');
    assert.equal(dip.type, 'Dipartimento');
  });

  it('imports NDJSON, with the institution’s own types, and updates existing offices', async () => {
    const nd = [
      JSON.stringify({ code: 'USR-LOM', name: 'Ufficio scolastico regionale per la Lombardia', type: 'Ufficio scolastico regionale', parent: null }),
      JSON.stringify({ code: 'AT-MI', name: 'Ambito territoriale di Milano', type: 'Ambito territoriale', parent: 'USR-LOM' }),
    ].join('\n');
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: nd, headers: { ...adminHeaders, 'content-type': 'application/x-ndjson' } });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { dryRun: false, created: 1, updated: 1, unchanged: 0, rejected: [] });
  });

  it('rejects bad rows with their field codes and keeps the good ones', async () => {
    const csv = [
      'code,name,type,parent',
      'OK1,Ufficio I,Direzione,',
      ',Senza codice,Direzione,',
      'BAD TYPE,Ufficio,Sottoscala,',
      'ORPHAN,Ufficio orfano,Dipartimento,NOWHERE',
      'DGSIS,Direzione,Direzione,DIP-ISTR',
      'OK1,Ancora,Direzione,',
    ].join('\n');
    const r = await importOffices(t.app, csv);
    assert.equal(r.status, 200);
    assert.equal(r.body.created, 1);
    assert.equal(r.body.rejected.length, 5);
    const byRow = Object.fromEntries(r.body.rejected.map((x: any) => [x.row, x]));
    assert.deepEqual(byRow[2].errors, [{ field: 'code', code: 'field.required' }]);
    assert.deepEqual(byRow[3].errors, [
      { field: 'code', code: 'field.invalid' },
      { field: 'type', code: 'org_unit.type_invalid' },
    ]);
    assert.deepEqual(byRow[4], { row: 4, externalId: 'ORPHAN', errors: [{ field: 'parent', code: 'org_unit.parent_invalid' }] });
    // DGSIS under its own child would make a loop.
    assert.deepEqual(byRow[5].errors, [{ field: 'parent', code: 'org_unit.parent_invalid' }]);
    assert.deepEqual(byRow[6].errors, [{ field: 'code', code: 'field.duplicate' }]);
    // An unknown column is refused, not ignored, even when its cells are empty.
    const extra = await importOffices(t.app, 'code,name,type,parent,colour\nOK2,Ufficio II,Direzione,,\n');
    assert.deepEqual(extra.body.rejected, [{ row: 1, externalId: 'OK2', errors: [{ field: 'colour', code: 'field.unknown' }] }]);
    assert.equal(extra.body.created, 0);
    const dg = await t.ctx.db.kysely.selectFrom('org_units').select('parent').where('code', '=', 'DGSIS').executeTakeFirstOrThrow();
    assert.equal(dg.parent, null);
  });

  it('reads the character set declared (latin1 names), refusing unknown ones, bad bytes and control characters', async () => {
    const post = (body: Buffer | string, type: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: body, headers: { ...adminHeaders, 'content-type': type } });
    const latin1 = Buffer.concat([Buffer.from('code,name,type,parent\nLAT1,Segreteria Nicol'), Buffer.from([0xf2]), Buffer.from(',Direzione,\n')]);
    const ok = await post(latin1, 'text/csv; charset=iso-8859-1');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().created, 1);
    assert.equal((await t.ctx.db.kysely.selectFrom('org_units').select('name').where('code', '=', 'LAT1').executeTakeFirstOrThrow()).name, 'Segreteria Nicolò');
    const unknown = await post(latin1, 'text/csv; charset=koi8-r');
    assert.equal(unknown.statusCode, 415);
    assert.equal(unknown.json().error.code, 'import.unsupported_charset');
    const asUtf8 = await post(Buffer.concat([Buffer.from('code,name,type,parent\nLAT2,Segreteria Nicol'), Buffer.from([0xf2]), Buffer.from(',Direzione,\n')]), 'text/csv');
    assert.deepEqual(asUtf8.json().rejected, [{ row: 1, externalId: 'LAT2', errors: [{ field: 'name', code: 'field.invalid_encoding' }] }]);
    const control = await post('code,name,type,parent\nCTL1,Segre\u0000teria,Direzione,\nCTL2,Bell\u0007,Direzione,\n', 'text/csv');
    assert.deepEqual(
      control.json().rejected.map((r: { errors: unknown[] }) => r.errors),
      [[{ field: 'name', code: 'field.control_character' }], [{ field: 'name', code: 'field.control_character' }]],
    );
    assert.equal((await t.ctx.db.kysely.selectFrom('org_units').select('code').where('code', 'in', ['LAT2', 'CTL1', 'CTL2']).execute()).length, 0);
  });

  it('reads dryRun strictly: a misspelt or unclear one is refused and imports nothing', async () => {
    const before = (await t.ctx.db.kysely.selectFrom('org_units').select('code').execute()).length;
    const offices = 'code,name,type,parent\nDRY-1,Ufficio di prova,Dipartimento,\n';
    for (const [query, fields] of [['?dryRun=yes', { dryRun: 'field.invalid' }], ['?dryRun', { dryRun: 'field.invalid' }], ['?dryrun=true', { dryrun: 'field.unknown' }]] as const) {
      const r = await importOffices(t.app, offices, query);
      assert.equal(r.status, 422, query);
      assert.equal(r.body.error.code, 'validation.failed', query);
      assert.deepEqual(r.body.error.fields, fields, query);
    }
    assert.equal((await t.ctx.db.kysely.selectFrom('org_units').select('code').execute()).length, before);
    const dry = await importOffices(t.app, offices, '?dryRun=TRUE');
    assert.deepEqual(dry.body, { dryRun: true, created: 1, updated: 0, unchanged: 0, rejected: [] });
    assert.equal((await t.ctx.db.kysely.selectFrom('org_units').select('code').execute()).length, before);
  });

  it('refuses other content types and unreadable rows', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: { code: 'X' }, headers: adminHeaders });
    assert.equal(r.statusCode, 415);
    const mislabelled = await t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: OFFICES, headers: { ...adminHeaders, 'content-type': 'application/json' } });
    assert.equal(mislabelled.statusCode, 415);
    assert.equal(mislabelled.json().error.code, 'request.unsupported_media_type');
    const nd = await t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: '{"code":\n[1]\n', headers: { ...adminHeaders, 'content-type': 'application/x-ndjson' } });
    assert.deepEqual(nd.json().rejected.map((x: any) => x.errors[0].code), ['field.invalid', 'field.invalid']);
    const anon = await t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: OFFICES, headers: { 'content-type': 'text/csv' } });
    assert.equal(anon.statusCode, 401);
  });

  it('rejects an NDJSON value of another type (a list, an object, true) instead of storing its JSON text', async () => {
    const nd = [
      JSON.stringify({ code: 'LIST', name: ['Ufficio', 'lista'], type: 'Direzione' }),
      JSON.stringify({ code: 'OBJ', name: { it: 'Ufficio' }, type: 'Direzione' }),
      JSON.stringify({ code: 'BOOL', name: 'Ufficio vero', type: true }),
      JSON.stringify({ code: ['ARR'], name: 'Ufficio', type: 'Direzione', parent: { code: 'DGSIS' } }),
      JSON.stringify({ code: 4021, name: 'Ufficio numerato', type: 'Direzione', parent: null }),
    ].join('\n');
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: nd, headers: { ...adminHeaders, 'content-type': 'application/x-ndjson' } });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), {
      dryRun: false,
      created: 1,
      updated: 0,
      unchanged: 0,
      rejected: [
        { row: 1, externalId: 'LIST', errors: [{ field: 'name', code: 'field.invalid' }] },
        { row: 2, externalId: 'OBJ', errors: [{ field: 'name', code: 'field.invalid' }] },
        { row: 3, externalId: 'BOOL', errors: [{ field: 'type', code: 'field.invalid' }] },
        {
          row: 4,
          externalId: null,
          errors: [
            { field: 'code', code: 'field.invalid' },
            { field: 'parent', code: 'field.invalid' },
          ],
        },
      ],
    });
    const stored = await t.ctx.db.kysely.selectFrom('org_units').select(['code', 'name']).where('code', 'in', ['LIST', 'OBJ', 'BOOL', '4021']).execute();
    assert.deepEqual(stored, [{ code: '4021', name: 'Ufficio numerato' }]);
  });

  it('a column or key left out keeps the stored office’s value, as in the people import; one given empty clears it', async () => {
    const nd = (...rows: object[]) =>
      t.app.inject({ method: 'POST', url: '/api/v1/admin/org-units', payload: rows.map((r) => JSON.stringify(r)).join('\n'), headers: { ...adminHeaders, 'content-type': 'application/x-ndjson' } });
    const parentOf = async (code: string) => (await t.ctx.db.kysely.selectFrom('org_units').selectAll().where('code', '=', code).executeTakeFirstOrThrow()).parent;
    assert.equal((await importOffices(t.app, 'code,name,type,parent\nKEEP-TOP,Direzione,Direzione,\nKEEP-SUB,Ufficio,Dipartimento,KEEP-TOP\n')).body.created, 2);
    // A file without the parent column renames the office and leaves it where it was.
    const renamed = await importOffices(t.app, 'code,name,type\nKEEP-SUB,Ufficio rinominato,Dipartimento\n');
    assert.deepEqual(renamed.body, { dryRun: false, created: 0, updated: 1, unchanged: 0, rejected: [] });
    assert.equal(await parentOf('KEEP-SUB'), 'KEEP-TOP');
    // Only the parent, by NDJSON: the stored name and type stay.
    assert.deepEqual((await nd({ code: 'KEEP-SUB', parent: 'KEEP-TOP' })).json(), { dryRun: false, created: 0, updated: 0, unchanged: 1, rejected: [] });
    assert.deepEqual((await nd({ code: 'KEEP-SUB', parent: null })).json(), { dryRun: false, created: 0, updated: 1, unchanged: 0, rejected: [] });
    assert.equal(await parentOf('KEEP-SUB'), null);
    // A new office still needs its name and type.
    assert.deepEqual((await nd({ code: 'KEEP-NEW', parent: 'KEEP-TOP' })).json().rejected, [
      {
        row: 1,
        externalId: 'KEEP-NEW',
        errors: [
          { field: 'name', code: 'field.required' },
          { field: 'type', code: 'field.required' },
        ],
      },
    ]);
  });

  it('names and removes referents: the role follows, the timeline records it', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'REF1', username: 'anna.verdi', status: 'active' });
    const c = apiClient(t.app, { lang: 'it' });
    const put = await nameReferent(t.app, 'DIP-ISTR', 'anna.verdi');
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.offices, ['DIP-ISTR']);
    // Named again, typed in capitals: nothing changes, and the answer names the account as it is.
    const again = await nameReferent(t.app, 'DIP-ISTR', ' ANNA.Verdi');
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { orgUnit: 'DIP-ISTR', username: 'anna.verdi', offices: ['DIP-ISTR'] });
    await nameReferent(t.app, 'AT-MI', 'anna.verdi');
    const roles = async () => JSON.parse((await t.ctx.db.kysely.selectFrom('accounts').select('roles').where('username_lower', '=', 'anna.verdi').executeTakeFirstOrThrow()).roles);
    assert.deepEqual(await roles(), ['referent']);
    const del = await c.request('DELETE', '/api/v1/admin/org-units/DIP-ISTR/referents/anna.verdi', undefined, adminHeaders);
    assert.equal(del.status, 204);
    assert.deepEqual(await roles(), ['referent']);
    await c.request('DELETE', '/api/v1/admin/org-units/AT-MI/referents/anna.verdi', undefined, adminHeaders);
    assert.deepEqual(await roles(), []);
    // Removing again changes nothing (as naming twice does) and is not an unknown account.
    assert.equal((await c.request('DELETE', '/api/v1/admin/org-units/AT-MI/referents/anna.verdi', undefined, adminHeaders)).status, 204);
    assert.equal((await c.request('DELETE', '/api/v1/admin/org-units/NOPE/referents/anna.verdi', undefined, adminHeaders)).body.error.code, 'org_unit.not_found');
    const missing = await c.request('PUT', '/api/v1/admin/org-units/NOPE/referents/anna.verdi', undefined, adminHeaders);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'org_unit.not_found');
    assert.equal(missing.body.error.message, 'Ufficio inesistente.');
    const nobody = await c.request('PUT', '/api/v1/admin/org-units/AT-MI/referents/nobody', undefined, adminHeaders);
    assert.equal(nobody.body.error.code, 'account.not_found');
    const actions = await timelineActions(t.app, 'anna.verdi');
    assert.deepEqual(actions.filter((a) => a.startsWith('referent.')), ['referent.named', 'referent.named', 'referent.removed', 'referent.removed']);
  });
});
