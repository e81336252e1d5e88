import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { csv, postImport } from '../imports/helpers.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken } from './helpers.js';

const PW = 'Vecchia-Pass1';
const HOUR = 3_600_000;

describe('a mailbox request whose requester the registrar suspends', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await importOffices(t.app, OFFICES);
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DIP', username: 'luca.bianchi', email: 'luca.bianchi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
    assert.equal((await nameReferent(t.app, 'DIP-ISTR', 'luca.bianchi')).status, 200);
  });
  after(() => t.close());

  it('is set aside: not listed, not approved (no dead activation link), not reminded; back when the record is enrolled again', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S300', givenName: 'Giulia', familyName: 'Conti', username: 'giulia.conti', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'giulia@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'giulia.conti', PW), lang: 'it' });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).body.state, 'awaiting_approval');
    let ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW), lang: 'it' });
    const listed = async () => (await ref.request('GET', '/api/v1/referent/requests')).body.requests.map((r: { username: string }) => r.username);
    const id = (await ref.request('GET', '/api/v1/referent/requests')).body.requests[0].id as string;
    assert.deepEqual(await listed(), ['giulia.conti']);

    const registrar = async (status: string) => assert.equal((await postImport(t, csv(['externalId', 'status'], ['S300', status]), 'population=staff')).status, 200);
    await registrar('ceased');
    assert.deepEqual(await listed(), []);
    const approve = await ref.request('POST', `/api/v1/referent/requests/${id}/approve`, {});
    assert.equal(approve.status, 404);
    assert.equal(approve.body.error.code, 'mailbox.request_not_found');
    assert.equal((await outbox(t.ctx, 'mailbox_activation')).length, 0);
    const account = await t.app.inject({ method: 'GET', url: '/api/v1/admin/accounts/giulia.conti', headers: adminHeaders });
    assert.equal(account.json().account.email, null);

    t.clock.advance(49 * HOUR);
    const reminders = await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/mailbox-reminders', headers: adminHeaders });
    assert.deepEqual(reminders.json().counts, {});
    assert.equal((await outbox(t.ctx, 'mailbox_reminder')).length, 0);

    await registrar('enrolled');
    ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW), lang: 'it' });
    assert.deepEqual(await listed(), ['giulia.conti']);
    const approved = await ref.request('POST', `/api/v1/referent/requests/${id}/approve`, {});
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual((await outbox(t.ctx, 'mailbox_activation')).map((m) => m.recipient), ['giulia@example.net']);
  });
});
