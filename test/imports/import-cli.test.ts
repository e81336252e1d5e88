import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/db/connect.js';
import { markRecordsPurged } from '../../src/accounts/purged-records.js';
import { loadOrCreateSecret, Secrets } from '../../src/app/secret.js';
import { runCli, withSqliteFile } from '../helpers/cli.js';
import { csv } from './helpers.js';

describe('tessera import (CLI)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(['import', ...args], dir, { ...env, ...extra });
  const withDb = <T>(fn: (db: Db) => Promise<T>) => withSqliteFile(join(dir, 'tessera.db'), fn);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-import-'));
    env = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`,
      TESSERA_DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
    };
    writeFileSync(
      join(dir, 'students.csv'),
      csv(
        ['externalId', 'givenName', 'familyName', 'mobile', 'status'],
        ['40000001', 'Giulia', 'Bianchi', '347 123 4567', 'enrolled'],
        ['40000002', 'Luca', 'Esposito', '', 'provisional'],
        ['40000003', 'Bad', 'Phone', '12', 'enrolled'],
      ),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a dry run prints the report as JSON and writes nothing; the import then writes; a re-import is unchanged', async () => {
    const dry = await run(['students.csv', '--population', 'student', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const rejected = [{ row: 3, externalId: '40000003', errors: [{ field: 'mobile', code: 'phone.invalid' }] }];
    assert.deepEqual(JSON.parse(dry.stdout), { dryRun: true, created: 2, updated: 0, unchanged: 0, rejected });
    assert.equal(existsSync(join(dir, 'tessera.db')), false, 'not even the database is created');

    const real = await run(['students.csv', '--population', 'student', '--json']);
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual(JSON.parse(real.stdout), { dryRun: false, created: 2, updated: 0, unchanged: 0, rejected });
    const accounts = await withDb((db) => db.kysely.selectFrom('accounts').select(['username', 'status']).orderBy('username').execute());
    assert.deepEqual(accounts, [
      { username: '40000001', status: 'pending_activation' },
      { username: '40000002', status: 'provisional' },
    ]);
    const actors = await withDb((db) => db.kysely.selectFrom('audit_log').select('actor').distinct().execute());
    assert.deepEqual(actors, [{ actor: 'import:cli' }]);

    // Not a terminal: a plain summary, no progress bar.
    const again = await run(['students.csv', '--population', 'student']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^0 created, 0 updated, 2 unchanged, 1 rejected\n {2}row 3 \(40000003\): mobile phone\.invalid\n$/);
  });

  it('counts the rows of purged records apart from the others; a file of only those is no failure', async () => {
    // A record purged after it ceased, as expire-ceased leaves it, under this instance's secret.
    const secrets = new Secrets(loadOrCreateSecret(undefined, join(dir, 'data')));
    await withDb((db) => db.kysely.transaction().execute((tx) => markRecordsPurged(tx, { secrets }, [{ population: 'student', external_id: '40000009' }], new Date(), 'registrar.ceased')));
    writeFileSync(join(dir, 'purged.csv'), csv(['externalId', 'givenName', 'familyName', 'status'], ['40000009', 'Anna', 'Greco', 'ceased']));
    const dry = await run(['purged.csv', '--population', 'student', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout), { dryRun: true, created: 0, updated: 0, unchanged: 0, skippedPurged: 1, rejected: [] });
    const real = await run(['purged.csv', '--population', 'student']);
    assert.equal(real.code, 0, real.stderr);
    assert.equal(real.stdout, '0 created, 0 updated, 0 unchanged, 0 rejected, 1 skipped (people purged after their record ended, whom the row does not enrol again)\n');
    assert.equal(await withDb((db) => db.kysely.selectFrom('persons').select('id').where('external_id', '=', '40000009').executeTakeFirst()), undefined);
  });

  it('reads NDJSON by extension (.jsonl) or by --format', async () => {
    const lines = `${JSON.stringify({ externalId: 'S9', givenName: 'Paolo', familyName: 'Conti', population: 'staff' })}\n`;
    writeFileSync(join(dir, 'staff.jsonl'), lines);
    writeFileSync(join(dir, 'staff.export'), lines);
    const a = await run(['staff.jsonl', '--json']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout).created, 1);
    const unknown = await run(['staff.export', '--json']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /--format/);
    const b = await run(['staff.export', '--format', 'ndjson', '--json']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(JSON.parse(b.stdout).unchanged, 1);
  });

  it('exits non-zero when the file is missing or the configuration is bad', async () => {
    const missing = await run(['nowhere.csv', '--population', 'student']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nowhere\.csv: no such file/);
    const badConfig = await run(['students.csv', '--population', 'student'], { TESSERA_CONFIG: join(dir, 'missing.yaml') });
    assert.notEqual(badConfig.code, 0);
    assert.match(badConfig.stderr, /missing\.yaml/);
    const badPopulation = await run(['students.csv', '--population', 'wizards']);
    assert.notEqual(badPopulation.code, 0);
  });
  it('a broken file (unclosed quote) exits 1 with its row and reason; --json prints the error envelope on stdout', async () => {
    writeFileSync(join(dir, 'mal.csv'), 'externalId,givenName,familyName\n40000100,Anna,Neri\n"40000101,Rita,Gialli\n');
    const json = await run(['mal.csv', '--population', 'student', '--json']);
    assert.equal(json.code, 1);
    const body = JSON.parse(json.stdout);
    assert.equal(body.error.code, 'import.malformed');
    assert.match(body.error.message, /row 2\b/);
    assert.match(json.stderr, /row 2\b.*import\.malformed/);
    const plain = await run(['mal.csv', '--population', 'student']);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, '');
    assert.match(plain.stderr, /cannot be read from row 2\b/);
  });

  it('reads the file in the --encoding given (utf-8 by default), rejecting rows not valid in it', async () => {
    const latin1 = Buffer.concat([Buffer.from('externalId,givenName,familyName\n40000200,Nicol'), Buffer.from([0xf2]), Buffer.from(',Neri\n')]);
    writeFileSync(join(dir, 'latin1.csv'), latin1);
    const asUtf8 = await run(['latin1.csv', '--population', 'student', '--json', '--dry-run']);
    assert.equal(asUtf8.code, 1, 'its one row rejected: nothing would be imported');
    assert.deepEqual(JSON.parse(asUtf8.stdout).rejected, [{ row: 1, externalId: '40000200', errors: [{ field: 'givenName', code: 'field.invalid_encoding' }] }]);
    const ok = await run(['latin1.csv', '--population', 'student', '--json', '--encoding', 'latin1']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).created, 1);
    assert.equal(await withDb(async (db) => (await db.kysely.selectFrom('persons').select('given_name').where('external_id', '=', '40000200').executeTakeFirst())?.given_name), 'Nicolò');
    const unknown = await run(['latin1.csv', '--population', 'student', '--encoding', 'ebcdic']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ebcdic is not supported/);
  });

  it('every row rejected is a failed import (exit 1); a dry run never creates a database', async () => {
    const none = await run(['students.csv', '--json']);
    assert.equal(none.code, 1, none.stderr);
    assert.equal(JSON.parse(none.stdout).rejected.length, 3, 'the report still lists every row and why');
    assert.match(none.stderr, /every row of students\.csv was rejected/);
    const typo = join(dir, 'typo', 'tesera.db');
    const dry = await run(['students.csv', '--population', 'student', '--dry-run', '--json'], { DATABASE_URL: `sqlite:${typo}` });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /no database at .*tesera\.db yet/);
    assert.equal(JSON.parse(dry.stdout).created, 2, 'checked against an empty database');
    assert.equal(existsSync(typo), false);
    assert.equal(existsSync(join(dir, 'typo')), false);
  });
});
