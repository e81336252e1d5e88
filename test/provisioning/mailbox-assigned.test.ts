import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { slapdMissing, startSlapd, type Slapd } from '../helpers/slapd.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { importOffices, nameReferent, OFFICES, sessionToken } from '../mailboxes/helpers.js';
import { transition } from './helpers.js';

const PW = 'Scuola-Pass1';
const TAX = 'RSSMRA80A41H501Y';
const document = { documentType: 'identity_card', documentNumber: 'CA12345AB', documentIssuer: 'Comune di Roma', documentExpiry: '2030-01-31', taxCode: TAX };

/**
 * A mailbox given to an account that is already active (a teacher's eligible request, a referent's
 * approval) reaches the mail platform and the directory at once: the entry takes its address.
 */
describe('a mailbox assigned to an active account is provisioned', { skip: slapdMissing }, () => {
  let ldap: Slapd;
  let t: TestApp;
  const dn = (uid: string) => `uid=${uid},ou=people,${ldap.baseDn}`;
  const entry = (uid: string) => ldap.search(dn(uid), '(objectClass=*)', ['*'], 'base')[0];

  before(async () => {
    ldap = await startSlapd();
    t = await makeApp({ env: { LDAP_URL: ldap.url, LDAP_BIND_DN: ldap.rootDn, LDAP_BIND_PASSWORD: ldap.rootPassword, LDAP_BASE_DN: ldap.baseDn } });
    await importOffices(t.app, OFFICES);
  });
  after(async () => {
    if (t) await closeTargets(t.ctx);
    await t?.close();
    await ldap?.stop();
  });

  /** An account seeded as an import leaves it, then activated (its entry made, with no address). */
  async function activeAccount(p: Parameters<typeof seedAccount>[1]) {
    await seedAccount(t.ctx, { ...p, status: 'pending_activation', password: PW });
    await transition(t, p.username!, 'active');
    await runProvisioningOnce(t.ctx);
    assert.equal(entry(p.username!)?.mail, undefined);
  }

  it('an eligible teacher’s request', async () => {
    await activeAccount({
      population: 'school_staff', externalId: 'T1', username: 'docente1', givenName: 'Maria', familyName: 'Rossi', taxCode: TAX,
      personalEmail: 'docente1@example.net', contractType: 'permanent', entitlements: ['istanze-online'],
    });
    const c = apiClient(t.app, { bearer: await sessionToken(t.app, 'docente1', PW) });
    const flow = (await c.start('mailbox-request')).body;
    const r = await c.submit('mailbox-request', flow.id, document);
    assert.equal(r.body.state, 'completed', JSON.stringify(r.body));
    await runProvisioningOnce(t.ctx);
    assert.deepEqual(entry('docente1')?.mail, [r.body.result.address]);
  });

  it('a staff request approved by the office’s referent', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R1', username: 'ref.mi', email: 'ref.mi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'AT-MI' });
    await nameReferent(t.app, 'AT-MI', 'ref.mi');
    await activeAccount({ population: 'staff', externalId: 'S1', username: 'impiegato1', givenName: 'Luca', familyName: 'Verdi', personalEmail: 'luca@example.net', orgUnit: 'AT-MI' });
    const c = apiClient(t.app, { bearer: await sessionToken(t.app, 'impiegato1', PW) });
    const flow = (await c.start('mailbox-request')).body;
    assert.equal((await c.submit('mailbox-request', flow.id, {})).body.state, 'awaiting_approval');
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'ref.mi', PW) });
    const list = await ref.request('GET', '/api/v1/referent/requests');
    const ok = await ref.request('POST', `/api/v1/referent/requests/${list.body.requests[0].id}/approve`, {});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await runProvisioningOnce(t.ctx);
    assert.deepEqual(entry('impiegato1')?.mail, [ok.body.address]);
  });
});
