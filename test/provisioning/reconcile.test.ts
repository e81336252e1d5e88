import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hash } from '@node-rs/argon2';
import { argon2Options } from '../../src/auth/passwords.js';
import { reconcileJob, reconcileJobs } from '../../src/jobs/reconcile-provisioning.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { slapdMissing, startSlapd, type Slapd } from '../helpers/slapd.js';
import { transition } from './helpers.js';

describe('reconciliation with a real slapd', { skip: slapdMissing }, () => {
  let ldap: Slapd;
  let t: TestApp;
  const dn = (uid: string) => `uid=${uid},ou=people,${ldap.baseDn}`;
  const entry = (uid: string) => ldap.search(dn(uid), '(objectClass=*)', ['*', 'pwdAccountLockedTime'], 'base')[0];

  before(async () => {
    ldap = await startSlapd();
    t = await makeApp({ env: { LDAP_URL: ldap.url, LDAP_BIND_DN: ldap.rootDn, LDAP_BIND_PASSWORD: ldap.rootPassword, LDAP_BASE_DN: ldap.baseDn } });
  });
  after(async () => {
    if (t) await closeTargets(t.ctx);
    await t?.close();
    await ldap?.stop();
  });

  it('reports and repairs entries changed behind Tessera’s back; a dry run changes nothing', async () => {
    assert.deepEqual(reconcileJobs(t.ctx).map((j) => j.name), ['reconcile-ldap']);
    const passwordHash = await hash('Giusta-Pw-2026', argon2Options);
    for (const u of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      await seedAccount(t.ctx, { externalId: u, status: 'suspended', passwordHash, email: `${u}@studenti.unidemo.example.org` });
      await transition(t, u, 'active');
    }
    await transition(t, 'r5', 'suspended');
    await runProvisioningOnce(t.ctx);
    const job = reconcileJob('ldap');
    const clean = await job.run(t.ctx, { dryRun: true });
    assert.deepEqual([clean.accounts, clean.entries, clean.differences], [5, 5, []]);

    // Behind Tessera's back: r1 deleted, r2's mail and password changed, r3 dropped from its
    // group, r5 unlocked, and an entry Tessera never made.
    const other = `{ARGON2}${await hash('Altra-Pw-99', argon2Options)}`;
    ldap.ldapmodify(
      [
        `dn: ${dn('r1')}`,
        'changetype: delete',
        '',
        `dn: ${dn('r2')}`,
        'changetype: modify',
        'replace: mail',
        'mail: someone@else.example.org',
        '-',
        'replace: userPassword',
        `userPassword: ${other}`,
        '',
        `dn: cn=student,ou=groups,${ldap.baseDn}`,
        'changetype: modify',
        'delete: member',
        `member: ${dn('r3')}`,
        '',
        `dn: ${dn('r5')}`,
        'changetype: modify',
        'delete: pwdAccountLockedTime',
        '',
        `dn: ${dn('intruder')}`,
        'changetype: add',
        'objectClass: inetOrgPerson',
        'uid: intruder',
        'cn: Intruder',
        'sn: Intruder',
        `userPassword: ${other}`,
        '',
      ].join('\n'),
    );
    assert.equal(ldap.whoami(dn('r5'), 'Giusta-Pw-2026'), true);
    assert.equal(ldap.whoami(dn('r2'), 'Altra-Pw-99'), true);

    const dry = await job.run(t.ctx, { dryRun: true });
    const summary = (r: typeof dry) => r.differences.map((d) => [d.kind, d.username, ...(d.fields ?? [])].join(' ')).sort();
    assert.deepEqual(summary(dry), ['extra intruder', 'missing r1', 'stale r2 mail userPassword', 'stale r3 group', 'stale r5 locked']);
    assert.equal(dry.repaired, 0);
    assert.equal(entry('r1'), undefined, 'a dry run repairs nothing');
    assert.ok(entry('intruder'));

    const real = await job.run(t.ctx, { dryRun: false });
    assert.deepEqual(summary(real), summary(dry));
    assert.equal(real.repaired, 5);
    assert.equal(ldap.whoami(dn('r1'), 'Giusta-Pw-2026'), true);
    assert.deepEqual(entry('r2')!.mail, ['r2@studenti.unidemo.example.org']);
    assert.equal(ldap.whoami(dn('r2'), 'Altra-Pw-99'), false);
    assert.equal(ldap.whoami(dn('r2'), 'Giusta-Pw-2026'), true);
    assert.equal(ldap.whoami(dn('r5'), 'Giusta-Pw-2026'), false);
    assert.equal(entry('intruder'), undefined);
    const members = ldap.search(`cn=student,ou=groups,${ldap.baseDn}`, '(objectClass=*)', ['member'], 'base')[0]!.member!;
    assert.equal(members.length, 5);
    const r1 = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/r1', undefined, adminHeaders);
    assert.deepEqual(r1.body.provisioning.map((p: any) => [p.target, p.status, p.lastOp]), [['ldap', 'ok', 'reconcile']]);

    const again = await job.run(t.ctx, { dryRun: true });
    assert.deepEqual(again.differences, []);
    // The same job by name, as `tessera jobs run reconcile-ldap` and the admin API run it.
    const viaApi = await apiClient(t.app).request('POST', '/api/v1/admin/jobs/reconcile-ldap?dryRun=true', undefined, adminHeaders);
    assert.equal(viaApi.status, 200, JSON.stringify(viaApi.body));
    assert.equal(viaApi.body.job, 'reconcile-ldap');
    assert.deepEqual(viaApi.body.counts, {});
    const audited = await t.ctx.db.kysely.selectFrom('audit_log').select('actor').where('action', '=', 'provisioning.reconciled').execute();
    assert.deepEqual(audited.map((a) => a.actor), ['job:reconcile-ldap']);
  });
});
