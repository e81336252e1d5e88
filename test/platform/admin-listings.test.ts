import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueueMessage } from '../../src/outbox/enqueue.js';
import { createTicket } from '../../src/tickets/tickets.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';

/** The helpdesk's tickets and the outbox: strict parameters, pages of `limit`, `before` to go back. */
describe('admin listings: tickets and outbox', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    for (let i = 0; i < 7; i++) {
      await createTicket(t.ctx, { contact: `p${i}@example.org`, message: `ticket ${i}` } as never, 'en', { ip: null, correlationId: null });
      t.clock.advance(1000);
    }
    await t.ctx.db.kysely.transaction().execute(async (tx) => {
      for (let i = 0; i < 7; i++) {
        await enqueueMessage(tx, t.clock.now(), { channel: 'email', to: `m${i}@example.org`, purpose: 'test', subject: 's', text: 'x', html: null } as never);
        t.clock.advance(1000);
      }
    });
  });
  after(() => t.close());
  const get = (url: string) => apiClient(t.app).request('GET', url, undefined, adminHeaders);

  it('tickets: newest first, three at a time, every ticket once', async () => {
    const seen: string[] = [];
    let url = '/api/v1/admin/tickets?limit=3';
    for (let page = 0; page < 5; page++) {
      const r = await get(url);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...r.body.tickets.map((x: { message: string }) => x.message));
      if (!r.body.more) break;
      url = `/api/v1/admin/tickets?limit=3&before=${r.body.tickets.at(-1).id}`;
    }
    assert.deepEqual(seen, ['ticket 6', 'ticket 5', 'ticket 4', 'ticket 3', 'ticket 2', 'ticket 1', 'ticket 0']);
  });

  it('outbox: newest first, three at a time, every message once', async () => {
    const seen: string[] = [];
    let url = '/api/v1/admin/outbox?limit=3&status=pending';
    for (let page = 0; page < 5; page++) {
      const r = await get(url);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...r.body.messages.map((x: { recipient: string }) => x.recipient));
      if (!r.body.more) break;
      url = `/api/v1/admin/outbox?limit=3&status=pending&before=${r.body.messages.at(-1).id}`;
    }
    assert.deepEqual(seen, ['m6@example.org', 'm5@example.org', 'm4@example.org', 'm3@example.org', 'm2@example.org', 'm1@example.org', 'm0@example.org']);
  });

  it('refuses unknown parameters and bad values, naming them', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['/api/v1/admin/tickets?offset=1', { offset: 'field.unknown' }],
      ['/api/v1/admin/tickets?limit=1e2', { limit: 'field.invalid' }],
      ['/api/v1/admin/tickets?limit=0x10', { limit: 'field.invalid' }],
      ['/api/v1/admin/tickets?limit=501', { limit: 'field.invalid' }],
      ['/api/v1/admin/outbox?limit=abc', { limit: 'field.invalid' }],
      ['/api/v1/admin/outbox?limit=0', { limit: 'field.invalid' }],
      ['/api/v1/admin/outbox?status=lost', { status: 'field.invalid' }],
      ['/api/v1/admin/outbox?q=x', { q: 'field.unknown' }],
    ];
    for (const [url, fields] of cases) {
      const r = await get(url);
      assert.equal(r.status, 422, url);
      assert.deepEqual(r.body.error.fields, fields, url);
    }
    assert.equal((await get('/api/v1/admin/tickets?before=T-NOSUCH1')).status, 404);
  });
});
