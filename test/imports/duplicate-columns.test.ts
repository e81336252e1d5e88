import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';
import { runCli, withSqliteFile } from '../helpers/cli.js';
import { counts, postImport } from './helpers.js';

// A header naming a column twice: which value a row meant cannot be told, so the file is refused
// whole, before any row is read, naming the column (never the later column's value winning).
describe('imports: a repeated column', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const rows = Array.from({ length: 1200 }, (_, i) => `${31000000 + i},Anna,Neri,+39 347 123 ${String(1000 + i).slice(-4)},+39 347 765 4321`).join('\n');

  for (const [label, header] of [
    ['twice the same name', 'externalId,givenName,familyName,mobile,mobile'],
    ['the same name with spaces around it', 'externalId,givenName,familyName, mobile ,mobile'],
  ] as const) {
    it(`the admin API refuses the whole file: ${label}`, async () => {
      const before = await counts(t);
      for (const query of ['population=student', 'population=student&dryRun=true']) {
        const r = await postImport(t, `${header}\n${rows}\n`, query);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'import.duplicate_column');
        assert.deepEqual(r.body.error.fields, { mobile: 'field.duplicate' });
        assert.match(r.body.error.message, /\bmobile\b/);
      }
      assert.deepEqual(await counts(t), before, 'nothing written, not even the first batch');
    });
  }

  it('answers in the language asked for', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/admin/imports?population=student',
      payload: 'externalId;givenName;familyName;mobile;mobile\n1;A;B;;\n',
      headers: { ...adminHeaders, 'content-type': 'text/csv', 'accept-language': 'it' },
    });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error.message, /colonna mobile/);
  });

  it('a column differing only in case is another, unknown column: every row rejected, nothing taken from it', async () => {
    const r = await postImport(t, 'externalId,givenName,familyName,mobile,Mobile\n31100001,Anna,Neri,+39 347 123 4567,+39 347 765 4321\n', 'population=student');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.rejected, [{ row: 1, externalId: '31100001', errors: [{ field: 'Mobile', code: 'field.unknown' }] }]);
  });

  it('NDJSON: a line naming a key twice is rejected, naming the key; the other lines are imported', async () => {
    const body = [
      '{"externalId":"31200001","givenName":"Anna","familyName":"Neri","mobile":"+39 347 123 4567","mobile":"+39 347 765 4321"}',
      '{"externalId":"31200002","givenName":"Rita","familyName":"Gialli","mob\\u0069le":"+39 347 123 4567","mobile":"+39 347 765 4321"}',
      '{"externalId":"31200003","givenName":"Ugo","familyName":"Blu","mobile":"+39 347 123 4567","extra":{"mobile":"x"}}',
    ].join('\n');
    const r = await postImport(t, `${body}\n`, 'population=student', 'application/x-ndjson');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.rejected, [
      { row: 1, externalId: '31200001', errors: [{ field: 'mobile', code: 'field.duplicate' }] },
      { row: 2, externalId: '31200002', errors: [{ field: 'mobile', code: 'field.duplicate' }] },
      { row: 3, externalId: '31200003', errors: [{ field: 'extra', code: 'field.unknown' }] },
    ]);
    assert.equal(r.body.created, 0);
  });

  it('the office import refuses a repeated column too', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/admin/org-units',
      payload: 'code,name,type,name\nDIP1,Dipartimento,department,Altro\n',
      headers: { ...adminHeaders, 'content-type': 'text/csv' },
    });
    assert.equal(r.statusCode, 400, r.body);
    assert.equal(r.json().error.code, 'import.duplicate_column');
    assert.deepEqual(r.json().error.fields, { name: 'field.duplicate' });
  });
});

describe('tessera import (CLI): a repeated column', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-import-dup-'));
    env = { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, TESSERA_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 1 naming the column, with the error envelope under --json, and imports nothing', async () => {
    writeFileSync(join(dir, 'dup.csv'), 'externalId,givenName,familyName,mobile,mobile\n40000901,Anna,Neri,+39 347 123 4567,+39 347 765 4321\n');
    const json = await runCli(['import', 'dup.csv', '--population', 'student', '--json'], dir, env);
    assert.equal(json.code, 1, json.stderr);
    const body = JSON.parse(json.stdout);
    assert.equal(body.error.code, 'import.duplicate_column');
    assert.deepEqual(body.error.fields, { mobile: 'field.duplicate' });
    assert.match(json.stderr, /column mobile more than once.*import\.duplicate_column/);
    const plain = await runCli(['import', 'dup.csv', '--population', 'student'], dir, env);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, '');
    assert.equal(await withSqliteFile(join(dir, 'tessera.db'), async (db) => (await db.kysely.selectFrom('persons').select('id').execute()).length), 0);
  });
});
