import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/db/connect.js';
import { KyselyAdapter } from '../../src/oidc/adapter.js';
import { sweepOidcPayloads } from '../../src/oidc/sweeper.js';
import { KEY_PUBLISH_MS, keySetVersion, loadSigningKeys, rotateSigningKeys } from '../../src/oidc/keys.js';
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

  it('instances starting together make one key set', async () => {
    await t.ctx.db.kysely.deleteFrom('oidc_keys').execute();
    const sets = await Promise.all([0, 1, 2].map(() => loadSigningKeys(t.ctx)));
    const kids = sets.map((s) => s.map((k) => (k as { kid: string }).kid).sort());
    assert.deepEqual(kids[1], kids[0]);
    assert.deepEqual(kids[2], kids[0]);
    assert.equal((await t.ctx.db.kysely.selectFrom('oidc_keys').select('kid').execute()).length, 2, 'one key per algorithm');
  });

  it('a rotation publishes the new keys before they sign, and every instance notices when they begin', async () => {
    const kidsOf = (keys: unknown[]) => keys.map((k) => (k as { kid: string; alg: string }).kid);
    const before = kidsOf(await loadSigningKeys(t.ctx));
    const version = await keySetVersion(t.ctx);
    const r = await rotateSigningKeys(t.ctx);
    const published = kidsOf(await loadSigningKeys(t.ctx));
    // The current keys still sign (they come first, one per algorithm), the new ones are published.
    assert.deepEqual(published.slice(0, 2).sort(), before.slice(0, 2).sort());
    assert.ok(r.created.every((k) => published.includes(k)));
    const duringPublication = await keySetVersion(t.ctx);
    assert.notEqual(duringPublication, version);
    t.clock.advance(KEY_PUBLISH_MS);
    // The switch changes the fingerprint by itself: servers rebuild their provider with it.
    assert.notEqual(await keySetVersion(t.ctx), duringPublication);
    const switched = kidsOf(await loadSigningKeys(t.ctx));
    assert.deepEqual(switched.slice(0, 2).sort(), [...r.created].sort());
    assert.ok(r.retired.every((k) => switched.includes(k)), 'the retired keys stay published');
    // A key thought compromised: replaced at once.
    const now = await rotateSigningKeys(t.ctx, { immediately: true });
    assert.deepEqual(kidsOf(await loadSigningKeys(t.ctx)).slice(0, 2).sort(), [...now.created].sort());
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
      env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_SECRET: 'cli-secret-cli-secret-cli-secret-0123', LOG_LEVEL: 'silent' },
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
