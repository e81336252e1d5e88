import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, runApiFlow } from '../helpers/clients.js';
import { csv, postImport } from '../imports/helpers.js';
import { lastPinFor } from '../activation-pin/helpers.js';
import { sessionToken } from './helpers.js';

const TAX = 'BNCGLI05D52H501B';
const PW = 'Scuola-Pass-2026';
const details = { documentType: 'identity_card', documentNumber: 'CA12345AB', documentIssuer: 'Comune di Roma', documentExpiry: '2030-01-31', taxCode: TAX };

/**
 * School staff imported with `{given}.{family}` (usernames) and `{given}.{family}@scuole.{domain}`
 * (addresses): names in any script give readable usernames, and each person's address follows
 * their own username.
 */
describe('usernames and addresses made of names', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const header = ['externalId', 'givenName', 'familyName', 'taxCode', 'mobile', 'personalEmail', 'contractType', 'entitlements'];
  const row = (id: string, given: string, family: string, n: number) => [id, given, family, TAX, `+3933900011${String(n).padStart(2, '0')}`, `${id.toLowerCase()}@example.net`, 'permanent', 'istanze-online'];
  const usernameOf = async (externalId: string) =>
    (await t.ctx.db.kysely.selectFrom('accounts').innerJoin('persons', 'persons.id', 'accounts.person_id').select('username').where('external_id', '=', externalId).executeTakeFirstOrThrow()).username;

  /** Activates by PIN, signs in, asks for the mailbox; the address given. */
  async function activateAndRequest(externalId: string, n: number): Promise<string> {
    const mobile = `+3933900011${String(n).padStart(2, '0')}`;
    const c = apiClient(t.app);
    const f = (await c.start('activation-pin')).body;
    await c.submit('activation-pin', f.id, { mobile });
    await c.submit('activation-pin', f.id, { pin: await lastPinFor(t.app, mobile) });
    await c.submit('activation-pin', f.id, { dataAccurate: true, consents: { directory: true } });
    const done = await c.submit('activation-pin', f.id, { password: PW, passwordConfirm: PW });
    assert.equal(done.body.state, 'completed', JSON.stringify(done.body));
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, await usernameOf(externalId), PW) });
    const req = (await me.start('mailbox-request')).body;
    const r = await me.submit('mailbox-request', req.id, details);
    assert.equal(r.body.state, 'completed', JSON.stringify(r.body));
    return r.body.result.address as string;
  }

  it('Greek names give Latin usernames and addresses (ELOT 743), never `.` and `.2`', async () => {
    const r = await postImport(t, csv(header, row('GR1', 'Ελένη', 'Παπαδοπούλου', 1), row('GR2', 'Γιώργος', 'Νικολάου', 2), row('PL1', 'Łukasz', 'Wąsowski', 3), row('RS1', 'Đorđe', 'Đukić', 4)), 'population=school_staff');
    assert.equal(r.body.created, 4, JSON.stringify(r.body));
    assert.deepEqual(
      await Promise.all(['GR1', 'GR2', 'PL1', 'RS1'].map(usernameOf)),
      ['eleni.papadopoulou', 'giorgos.nikolaou', 'lukasz.wasowski', 'dorde.dukic'],
    );
    assert.equal(await activateAndRequest('GR1', 1), 'eleni.papadopoulou@scuole.unidemo.example.org');
    assert.equal(await activateAndRequest('GR2', 2), 'giorgos.nikolaou@scuole.unidemo.example.org');
  });

  it('names that fold to nothing give the external id, and no account is called `.`', async () => {
    const r = await postImport(t, csv(header, row('NN-1', '’', '’', 5), row('NN-2', '-', 'Rossi', 6)), 'population=school_staff');
    assert.equal(r.body.created, 2, JSON.stringify(r.body));
    assert.deepEqual(await Promise.all(['NN-1', 'NN-2'].map(usernameOf)), ['nn-1', 'nn-2']);
    assert.equal(await activateAndRequest('NN-1', 5), 'nn-1@scuole.unidemo.example.org');
    const dots = await t.ctx.db.kysely.selectFrom('accounts').select('username').where((eb) => eb.or([eb('username', 'like', '.%'), eb('username', 'like', '%.'), eb('email', 'like', '.%')])).execute();
    assert.deepEqual(dots, []);
    await assert.rejects(runApiFlow(t.app, 'login', [{ username: '.', password: PW }]));
  });

  it('two Mario Rossi: each gets the address of their own username, whoever asks first', async () => {
    const r = await postImport(t, csv(header, row('D1', 'Mario', 'Rossi', 7), row('D2', 'Mario', 'Rossi', 8)), 'population=school_staff');
    assert.equal(r.body.created, 2, JSON.stringify(r.body));
    assert.deepEqual(await Promise.all(['D1', 'D2'].map(usernameOf)), ['mario.rossi', 'mario.rossi2']);
    assert.equal(await activateAndRequest('D2', 8), 'mario.rossi2@scuole.unidemo.example.org');
    assert.equal(await activateAndRequest('D1', 7), 'mario.rossi@scuole.unidemo.example.org');
  });

  it('an address already taken by someone else: the next free suffix', async () => {
    const r = await postImport(t, csv(header, row('E1', 'Ugo', 'Neri', 9), row('E2', 'Ugo', 'Neri', 10)), 'population=school_staff');
    assert.equal(r.body.created, 2, JSON.stringify(r.body));
    assert.equal(await usernameOf('E2'), 'ugo.neri2');
    await t.ctx.db.kysely.updateTable('accounts').set({ email: 'ugo.neri2@scuole.unidemo.example.org', email_lower: 'ugo.neri2@scuole.unidemo.example.org' }).where('username', '=', 'giorgos.nikolaou').execute();
    assert.equal(await activateAndRequest('E2', 10), 'ugo.neri@scuole.unidemo.example.org');
  });
});
