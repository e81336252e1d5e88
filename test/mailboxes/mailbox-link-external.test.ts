import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { outbox, timelineActions } from './helpers.js';

describe('a mailbox link for an account of a population without mailboxes', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  // An external user's address is their own (registration stores it as the account's email): the
  // link called it "your institutional address" and set a new password for someone the helpdesk
  // may not reset a password for.
  it('is refused (409 mailbox.not_opened, translated), sends nothing and audits nothing', async () => {
    await seedAccount(t.ctx, { population: 'external', externalId: 'ext-1', username: 'mrossi', email: 'mario.rossi@example.net', personalEmail: 'mario.rossi@example.net', status: 'active', password: 'Esterno-Pass1' });
    for (const [lang, text] of [
      ['en', /has no institutional mailbox/],
      ['it', /non ha ancora una casella/],
      ['el', /δεν έχει ακόμη ιδρυματικό γραμματοκιβώτιο/],
    ] as const) {
      const r = await apiClient(t.app, { lang }).request('POST', '/api/v1/admin/accounts/mrossi/mailbox-link', {}, adminHeaders);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'mailbox.not_opened');
      assert.match(r.body.error.message, text);
    }
    assert.equal((await outbox(t.ctx)).length, 0);
    assert.ok(!(await timelineActions(t.app, 'mrossi')).includes('mailbox.link_resent'));
  });

  it('still goes to a student with an institutional mailbox', async () => {
    await seedAccount(t.ctx, { population: 'student', externalId: '20269999', email: '20269999@studenti.unidemo.example.org', personalEmail: 'studente@example.net', status: 'active' });
    const r = await apiClient(t.app).request('POST', '/api/v1/admin/accounts/20269999/mailbox-link', {}, adminHeaders);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { sentTo: 's***@example.net' });
  });
});
