import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { institutionSchema } from '../../src/config/institution-schema.js';
import { reconcileJob } from '../../src/jobs/reconcile-provisioning.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient, adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { activate, changePassword, transition } from './helpers.js';
import { startGoogleFake, type GoogleFake } from './google-fake.js';

// Contract tests: no Google service can be reached here, so the client is checked against a
// local server that answers as the Directory API and the token endpoint are documented to.
describe('Google Workspace target (contract tests against the documented Directory API)', () => {
  let google: GoogleFake;
  let t: TestApp;
  let dir: string;
  const address = (u: string) => `${u}@studenti.unidemo.example.org`;

  before(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    google = await startGoogleFake({ publicKey, clientEmail: 'tessera@unidemo.iam.gserviceaccount.com', adminEmail: 'admin@unidemo.example.org', orgUnits: ['/Studenti'], pageSize: 2 });
    dir = mkdtempSync(join(tmpdir(), 'tessera-gws-'));
    const keyFile = join(dir, 'key.json');
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'unidemo',
        private_key_id: 'k1',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: 'tessera@unidemo.iam.gserviceaccount.com',
        token_uri: google.tokenUrl,
      }),
    );
    const config = testConfig((c) => {
      c.provisioning.targets = [
        { id: 'gws', type: 'google', populations: ['student'], keyFile, adminEmail: 'admin@unidemo.example.org', customer: 'my_customer', orgUnits: { student: '/Studenti' }, directoryUrl: google.url },
      ];
    });
    t = await makeApp({ config });
  });
  after(async () => {
    if (t) await closeTargets(t.ctx);
    await t?.close();
    await google?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('activation creates the user in the population’s unit with the institutional address; no password hash Google cannot use is sent', async () => {
    await seedAccount(t.ctx, { externalId: 'g1', password: 'Enrol-2026', givenName: 'Eleni', familyName: 'Papadopoulou' });
    await activate(t, 'g1', 'Enrol-2026', 'Google-Pw-2026');
    assert.equal((await runProvisioningOnce(t.ctx)).delivered, 2);
    const u = google.users.get(address('g1'))!;
    assert.deepEqual([u.primaryEmail, u.name.givenName, u.name.familyName, u.orgUnitPath, u.suspended], [address('g1'), 'Eleni', 'Papadopoulou', '/Studenti', false]);
    // argon2id is not a format Google accepts: a random SHA-1 nobody knows, sign-in goes through SSO.
    assert.equal(u.hashFunction, 'SHA-1');
    assert.match(u.password!, /^[0-9a-f]{40}$/);
    const sent = JSON.stringify(google.requests);
    assert.doesNotMatch(sent, /argon2|Google-Pw-2026|Enrol-2026/);
    assert.equal(google.tokensIssued, 1, 'the access token is reused');
    const admin = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/g1', undefined, adminHeaders);
    assert.deepEqual(admin.body.provisioning.map((p: any) => [p.target, p.status]), [['gws', 'ok']]);
  });

  it('a password change leaves Google to single sign-on; a crypt(3) hash is passed on', async () => {
    const before = google.requests.length;
    await changePassword(t, 'g1', 'Google-Pw-2026', 'Google-Pw-2027');
    await runProvisioningOnce(t.ctx);
    assert.deepEqual(google.requests.slice(before).map((r) => r.method), ['GET']);
    const sha512crypt = '$6$rounds=5000$saltsalt$' + 'a'.repeat(86);
    await seedAccount(t.ctx, { externalId: 'g2', status: 'suspended', passwordHash: sha512crypt, email: address('g2') });
    await transition(t, 'g2', 'active');
    await runProvisioningOnce(t.ctx);
    assert.deepEqual([google.users.get(address('g2'))!.hashFunction, google.users.get(address('g2'))!.password], ['crypt', sha512crypt]);
  });

  it('suspends, reactivates and deletes the user with the account', async () => {
    await transition(t, 'g1', 'suspended');
    await runProvisioningOnce(t.ctx);
    assert.equal(google.users.get(address('g1'))!.suspended, true);
    assert.ok(google.requests.some((r) => r.method === 'PUT' && r.path === `/admin/directory/v1/users/${encodeURIComponent(address('g1'))}` && r.body.suspended === true));
    await transition(t, 'g1', 'active');
    await runProvisioningOnce(t.ctx);
    assert.equal(google.users.get(address('g1'))!.suspended, false);
    await transition(t, 'g2', 'suspended');
    await transition(t, 'g2', 'purged');
    await runProvisioningOnce(t.ctx);
    assert.equal(google.users.has(address('g2')), false);
    assert.ok(google.requests.some((r) => r.method === 'DELETE'));
  });

  it('reconciliation lists the managed unit page by page and repairs drift', async () => {
    for (const u of ['g3', 'g4']) {
      await seedAccount(t.ctx, { externalId: u, status: 'suspended', password: 'Any-Pw-2026x', email: address(u) });
      await transition(t, u, 'active');
    }
    await runProvisioningOnce(t.ctx);
    const job = reconcileJob('gws');
    assert.deepEqual((await job.run(t.ctx, { dryRun: true })).differences, []);
    // Behind Tessera's back: g3 renamed and moved, g4 deleted, a stranger added to the unit.
    Object.assign(google.users.get(address('g3'))!, { name: { givenName: 'X', familyName: 'Y', fullName: 'X Y' } });
    google.users.delete(address('g4'));
    google.users.set('stranger@studenti.unidemo.example.org', { ...google.users.get(address('g1'))!, primaryEmail: 'stranger@studenti.unidemo.example.org', id: 'z' });
    const dry = await job.run(t.ctx, { dryRun: true });
    const summary = dry.differences.map((d) => [d.kind, d.key, ...(d.fields ?? [])].join(' ')).sort();
    assert.deepEqual(summary, ['extra stranger@studenti.unidemo.example.org', `missing ${address('g4')}`, `stale ${address('g3')} name.givenName name.familyName`]);
    assert.ok(google.requests.some((r) => r.path.includes('pageToken=')), 'follows nextPageToken');
    const real = await job.run(t.ctx, { dryRun: false });
    assert.equal(real.repaired, 3);
    assert.equal(google.users.get(address('g3'))!.name.givenName, 'Maria');
    assert.ok(google.users.has(address('g4')));
    assert.equal(google.users.has('stranger@studenti.unidemo.example.org'), false);
    assert.deepEqual((await job.run(t.ctx, { dryRun: true })).differences, []);
  });
});

describe('provisioning configuration', () => {
  it('validates targets and names the offending key', () => {
    const base = { institution: { id: 'x', name: 'X', domain: 'x.example.org' } };
    const bad = institutionSchema.safeParse({ ...base, provisioning: { targets: [{ id: 'dir', type: 'ldap', populations: ['student'], url: 'http://x', bindDn: 'cn=a', bindPasswordEnv: 'P', baseDn: 'dc=x' }] } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error!.issues[0]!.path, ['provisioning', 'targets', 0, 'url']);
    const ok = institutionSchema.parse({ ...base, provisioning: { targets: [{ id: 'dir', type: 'ldap', populations: ['student'], url: 'ldaps://dir.x.example.org', bindDn: 'cn=a', bindPasswordEnv: 'DIR_PASSWORD', baseDn: 'dc=x' }] } });
    const t = ok.provisioning.targets[0]!;
    assert.equal(t.type === 'ldap' && [t.quotaAttribute, t.lockWith].join(), 'tesseraMailQuota,ppolicy');
    const twice = institutionSchema.safeParse({ ...base, provisioning: { targets: [ok.provisioning.targets[0], ok.provisioning.targets[0]] } });
    assert.equal(twice.success, false);
  });
});
