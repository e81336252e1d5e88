import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { slapdMissing, startSlapd, type Slapd } from '../helpers/slapd.js';
import { enqueueAccountProvisioning } from '../../src/provisioning/enqueue.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { startOutboxDispatcher } from '../../src/outbox/start-dispatcher.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { activate, changePassword, provisioningRows, transition } from './helpers.js';

describe('provisioning to a real slapd', { skip: slapdMissing }, () => {
  let ldap: Slapd;
  let t: TestApp;
  const dn = (uid: string) => `uid=${uid},ou=people,${ldap.baseDn}`;
  const entry = (uid: string) => ldap.search(dn(uid), '(objectClass=*)', ['*', 'pwdAccountLockedTime'], 'base')[0];
  const members = (population: string) => ldap.search(`cn=${population},ou=groups,${ldap.baseDn}`, '(objectClass=*)', ['member'], 'base')[0]?.member ?? [];

  before(async () => {
    ldap = await startSlapd();
    t = await makeApp({ env: { LDAP_URL: ldap.url, LDAP_BIND_DN: ldap.rootDn, LDAP_BIND_PASSWORD: ldap.rootPassword, LDAP_BASE_DN: ldap.baseDn } });
  });
  after(async () => {
    if (t) await closeTargets(t.ctx);
    await t?.close();
    await ldap?.stop();
  });

  it('activation creates the entry, with the Tessera password, quota and group', async () => {
    await seedAccount(t.ctx, { externalId: '20260001', password: 'Enrol-2026', givenName: 'Giulia', familyName: 'Bianchi' });
    await activate(t, '20260001', 'Enrol-2026', 'Prima-Chiave-11');
    const rows = await provisioningRows(t);
    assert.deepEqual(rows.map((r) => [r.channel, r.purpose, r.status]), [['provision:ldap', 'ensure', 'pending'], ['provision:ldap', 'set_password', 'pending']]);
    // No secret in the outbox: the delivery reads the hash from the account.
    assert.doesNotMatch(rows.map((r) => r.payload).join(), /argon2|Prima-Chiave/);
    assert.equal(entry('20260001'), undefined);

    assert.deepEqual(await runProvisioningOnce(t.ctx), { delivered: 2, retried: 0, dead: 0 });
    const e = entry('20260001')!;
    assert.deepEqual(e.objectclass!.sort(), ['inetOrgPerson', 'tesseraAccount']);
    assert.deepEqual([e.uid, e.cn, e.sn, e.givenname, e.mail], [['20260001'], ['Giulia Bianchi'], ['Bianchi'], ['Giulia'], ['20260001@studenti.unidemo.example.org']]);
    assert.deepEqual(e.tesseramailquota, [String(7 * 1024 ** 3)]);
    assert.match(e.userpassword![0]!, /^\{ARGON2\}\$argon2id\$/);
    assert.deepEqual(members('student'), [dn('20260001').toLowerCase()]);
    assert.equal(ldap.whoami(dn('20260001'), 'Prima-Chiave-11'), true);
    assert.equal(ldap.whoami(dn('20260001'), 'Enrol-2026'), false);

    const admin = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/20260001', undefined, adminHeaders);
    assert.equal(admin.status, 200);
    // Both rows were delivered side by side: the last to finish names its operation.
    assert.deepEqual(
      admin.body.provisioning.map((p: any) => [p.target, p.status, p.lastError, ['ensure', 'set_password'].includes(p.lastOp)]),
      [['ldap', 'ok', null, true]],
    );
    // A second run finds nothing to do.
    assert.deepEqual(await runProvisioningOnce(t.ctx), { delivered: 0, retried: 0, dead: 0 });
  });

  it('after a password change, ldapwhoami binds with the new password and not the old one', async () => {
    await changePassword(t, '20260001', 'Prima-Chiave-11', 'Seconda-Chiave-22');
    // Not yet delivered: the directory still has the old password.
    assert.equal(ldap.whoami(dn('20260001'), 'Prima-Chiave-11'), true);
    assert.equal((await runProvisioningOnce(t.ctx)).delivered, 1);
    assert.equal(ldap.whoami(dn('20260001'), 'Seconda-Chiave-22'), true);
    assert.equal(ldap.whoami(dn('20260001'), 'Prima-Chiave-11'), false);
  });

  it('suspension makes the bind fail; reactivation lets it in again', async () => {
    await transition(t, '20260001', 'suspended');
    await runProvisioningOnce(t.ctx);
    assert.deepEqual(entry('20260001')!.pwdaccountlockedtime, ['000001010000Z']);
    assert.equal(ldap.whoami(dn('20260001'), 'Seconda-Chiave-22'), false);
    await transition(t, '20260001', 'active');
    await runProvisioningOnce(t.ctx);
    assert.equal(entry('20260001')!.pwdaccountlockedtime, undefined);
    assert.equal(ldap.whoami(dn('20260001'), 'Seconda-Chiave-22'), true);
  });

  it('purge removes the entry and its group membership', async () => {
    await seedAccount(t.ctx, { externalId: '20260002', password: 'Enrol-2026' });
    await activate(t, '20260002', 'Enrol-2026', 'Terza-Chiave-33');
    await runProvisioningOnce(t.ctx);
    assert.equal(members('student').length, 2);
    await transition(t, '20260001', 'suspended');
    await transition(t, '20260001', 'purged');
    await runProvisioningOnce(t.ctx);
    assert.equal(entry('20260001'), undefined);
    assert.deepEqual(members('student'), [dn('20260002').toLowerCase()]);
    // Delivering the purge again (a replay) changes nothing and succeeds.
    const last = (await provisioningRows(t)).find((r) => r.purpose === 'delete')!;
    assert.equal(last.status, 'sent');
    await t.ctx.db.kysely.updateTable('outbox').set({ status: 'pending', next_attempt_at: t.clock.now().toISOString() }).where('id', '=', last.id).execute();
    assert.equal((await runProvisioningOnce(t.ctx)).delivered, 1);
    assert.equal(entry('20260001'), undefined);
    assert.equal(ldap.whoami(dn('20260002'), 'Terza-Chiave-33'), true);
  });

  it('a change of population moves the entry to the other group', async () => {
    const acc = (await t.ctx.db.kysely.selectFrom('accounts').select(['id', 'person_id']).where('username', '=', '20260002').executeTakeFirstOrThrow());
    await t.ctx.db.kysely.updateTable('persons').set({ population: 'staff' }).where('id', '=', acc.person_id!).execute();
    await t.ctx.db.kysely.transaction().execute((tx) => enqueueAccountProvisioning(t.ctx, tx, t.clock.now(), acc.id, ['ensure']));
    await runProvisioningOnce(t.ctx);
    assert.deepEqual(members('staff'), [dn('20260002').toLowerCase()]);
    // The student group lost its last member, and went with it.
    assert.deepEqual(members('student'), []);
    assert.equal(entry('20260002')!.tesseramailquota, undefined, 'staff have no quota by default');
  });

  it('an account that signs in only with SPID has no password in the directory', async () => {
    const a = await seedAccount(t.ctx, { externalId: '20260006', status: 'suspended', password: 'Sesta-Pw-66' });
    await t.ctx.db.kysely.updateTable('accounts').set({ federated_only: 1 }).where('id', '=', a.accountId).execute();
    await transition(t, '20260006', 'active');
    await runProvisioningOnce(t.ctx);
    assert.ok(entry('20260006'));
    assert.equal(entry('20260006')!.userpassword, undefined);
    assert.equal(ldap.whoami(dn('20260006'), 'Sesta-Pw-66'), false);
  });

  it('serve delivers in the background when a target is configured', async () => {
    await seedAccount(t.ctx, { externalId: '20260005', status: 'suspended', password: 'Quinta-Pw-55' });
    await transition(t, '20260005', 'active');
    const stop = await startOutboxDispatcher(t.ctx);
    assert.ok(stop, 'the outbox dispatcher runs provisioning when LDAP_URL is set');
    try {
      for (let i = 0; !entry('20260005'); i++) {
        assert.ok(i < 100, 'delivered within 5 seconds');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(ldap.whoami(dn('20260005'), 'Quinta-Pw-55'), true);
    } finally {
      await stop();
    }
    // Without a target the dispatcher still runs, for the services' back-channel logout notices.
    const other = await startOutboxDispatcher({ ...t.ctx, env: { ...t.ctx.env, LDAP_URL: undefined } });
    assert.ok(other);
    await other();
  });

  it('an unreachable target is retried with backoff, then dead-lettered and shown to the administrator', async () => {
    // The same database seen by a Tessera whose directory is down.
    const down = { ...t.ctx, env: { ...t.ctx.env, LDAP_URL: 'ldap://127.0.0.1:1' } };
    try {
      const acc = await seedAccount(t.ctx, { externalId: '20260009', status: 'suspended', password: 'Any-Pw-1234' });
      await transition(t, '20260009', 'active');
      const first = await runProvisioningOnce(down, { maxAttempts: 3 });
      assert.deepEqual(first, { delivered: 0, retried: 1, dead: 0 });
      const row = (await provisioningRows(t)).find((r) => r.recipient === acc.accountId)!;
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.ok(row.next_attempt_at > t.clock.now().toISOString(), 'retried later, not at once');
      assert.deepEqual(await runProvisioningOnce(down, { maxAttempts: 3 }), { delivered: 0, retried: 0, dead: 0 });
      t.clock.advance(3_600_000);
      await runProvisioningOnce(down, { maxAttempts: 3 });
      t.clock.advance(3_600_000);
      assert.equal((await runProvisioningOnce(down, { maxAttempts: 3 })).dead, 1);
      assert.equal((await provisioningRows(t)).find((r) => r.recipient === acc.accountId)!.status, 'dead');
      const admin = await apiClient(t.app).request('GET', '/api/v1/admin/accounts/20260009', undefined, adminHeaders);
      const [state] = admin.body.provisioning;
      assert.equal(state.status, 'dead');
      assert.equal(state.attempts, 3);
      assert.match(state.lastError, /ECONNREFUSED|connect/i);
      assert.equal(entry('20260009'), undefined);
      // The administrator retries once the directory is back.
      const c = apiClient(t.app);
      assert.equal((await c.request('POST', '/api/v1/admin/accounts/20260009/provisioning/nowhere/retry', undefined, adminHeaders)).body.error.code, 'provisioning.unknown_target');
      assert.equal((await c.request('POST', '/api/v1/admin/accounts/nobody/provisioning/ldap/retry', undefined, adminHeaders)).status, 404);
      assert.equal((await c.request('POST', '/api/v1/admin/accounts/20260009/provisioning/ldap/retry')).status, 401);
      const retry = await c.request('POST', '/api/v1/admin/accounts/20260009/provisioning/ldap/retry', undefined, adminHeaders);
      assert.equal(retry.status, 202);
      assert.deepEqual(retry.body, { target: 'ldap', status: 'pending' });
      assert.equal((await runProvisioningOnce(t.ctx)).delivered, 1);
      assert.equal(ldap.whoami(dn('20260009'), 'Any-Pw-1234'), true);
      const after = await c.request('GET', '/api/v1/admin/accounts/20260009', undefined, adminHeaders);
      assert.equal(after.body.provisioning[0].status, 'ok');
      assert.ok(after.body.timeline.some((e: { action: string }) => e.action === 'provisioning.retried'));
    } finally {
      await closeTargets(down);
    }
  });
});
