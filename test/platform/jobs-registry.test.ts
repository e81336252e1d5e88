import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

describe('mailbox jobs through the job runner', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('runs school-mailboxes and mailbox-reminders by name, dry run first', async () => {
    const c = apiClient(t.app);
    await seedAccount(t.ctx, { population: 'school', externalId: 'TOIC81500A', givenName: '', familyName: 'IC Torino 15', status: 'pending_activation', registrarStatus: 'active' });
    await t.ctx.db.kysely.updateTable('persons').set({ extra: JSON.stringify({ name: 'IC Torino 15', schoolYear: '2026/27' }) }).where('external_id', '=', 'TOIC81500A').execute();
    const dry = await c.request('POST', '/api/v1/admin/jobs/school-mailboxes?dryRun=true', undefined, adminHeaders);
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.dryRun, true);
    const reminders = await c.request('POST', '/api/v1/admin/jobs/mailbox-reminders', undefined, adminHeaders);
    assert.equal(reminders.status, 200, JSON.stringify(reminders.body));
    assert.equal(reminders.body.job, 'mailbox-reminders');
    const unknown = await c.request('POST', '/api/v1/admin/jobs/nope', undefined, adminHeaders);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'job.unknown');
  });
});
