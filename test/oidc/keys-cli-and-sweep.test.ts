import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/db/connect.js';
import { KyselyAdapter } from '../../src/oidc/adapter.js';
import { sweepOidcPayloads } from '../../src/oidc/sweeper.js';
import { loadSigningKeys } from '../../src/oidc/keys.js';
import { makeApp, type TestApp } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');

describe('provider storage housekeeping', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('expired rows are never returned and are swept; live ones stay', async () => {
    const codes = new KyselyAdapter(t.ctx, 'AuthorizationCode');
    await codes.upsert('short', { accountId: 'a1', grantId: 'g1' }, 60);
    await codes.upsert('long', { accountId: 'a1', grantId: 'g2' }, 3600);
    t.clock.advance(61_000);
    assert.equal(await codes.find('short'), undefined);
    assert.equal((await codes.find('long'))?.grantId, 'g2');
    assert.equal(await sweepOidcPayloads(t.ctx), 1);
    const left = await t.ctx.db.kysely.selectFrom('oidc_payloads').select('id').execute();
    assert.deepEqual(left.map((r) => r.id), ['long']);
    await codes.consume('long');
    assert.ok((await codes.find('long'))?.consumed, 'a consumed code says so');
    await codes.revokeByGrantId('g2');
    assert.equal(await codes.find('long'), undefined);
  });

  it('keys sealed with one TESSERA_SECRET do not open with another', async () => {
    await loadSigningKeys(t.ctx);
    const other = await makeApp({ env: { TESSERA_SECRET: 'another-secret-another-secret-another-0' } });
    try {
      const rows = await t.ctx.db.kysely.selectFrom('oidc_keys').selectAll().execute();
      for (const r of rows) await other.ctx.db.kysely.insertInto('oidc_keys').values(r).execute();
      await assert.rejects(loadSigningKeys(other.ctx));
    } finally {
      await other.close();
    }
  });
});

describe('npx tessera oidc rotate-keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = () =>
    spawnSync(process.execPath, [join(root, 'bin', 'tessera.mjs'), 'oidc', 'rotate-keys', '--json'], {
      env: { ...process.env, TESSERA_FROM_SOURCE: '1', DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_SECRET: 'cli-secret-cli-secret-cli-secret-0123', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });

  it('creates new keys and retires the previous ones, which stay stored for the overlap', async () => {
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    const a = JSON.parse(first.stdout) as { created: string[]; retired: string[] };
    assert.equal(a.created.length, 2);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    const b = JSON.parse(second.stdout) as { created: string[]; retired: string[] };
    assert.deepEqual(b.retired.sort(), a.created.sort());
    const db = connect(`sqlite:${join(dir, 't.db')}`);
    try {
      const rows = await db.kysely.selectFrom('oidc_keys').select(['kid', 'retired_at']).execute();
      assert.equal(rows.length, 4);
      assert.deepEqual(rows.filter((r) => r.retired_at === null).map((r) => r.kid).sort(), b.created.sort());
    } finally {
      await db.close();
    }
  });
});
