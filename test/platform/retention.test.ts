import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { retentionDays, sweepEnded } from '../../src/app/retention.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

const DAY = 86_400_000;

describe('rows that ended are not kept for ever', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedAccount(t.ctx, { externalId: '20260001', status: 'active', password: 'Corretta-Pw1', email: '20260001@studenti.unidemo.example.org', personalEmail: 'paolo@example.org' });
  });
  after(() => t.close());

  const count = async (table: 'flows' | 'sessions' | 'one_time_codes') =>
    Number((await t.ctx.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('flows, sessions and one-time codes go some days after they end; what is still in use stays', async () => {
    const c = apiClient(t.app);
    // A sign-in (a flow and a session), a password reset asked for (a flow and a code), and a flow
    // left half-way through (what the person typed is in it).
    const f = await c.start('login');
    const token = (await c.submit('login', f.body.id, { username: '20260001', password: 'Corretta-Pw1' })).body.result.sessionToken as string;
    const reset = await c.start('password-reset');
    await c.submit('password-reset', reset.body.id, { identifier: '20260001' });
    const left = await c.start('activation-pin');
    await c.submit('activation-pin', left.body.id, { mobile: '+393401234567' });
    const flows = await count('flows');
    const sessions = await count('sessions');
    const codes = await count('one_time_codes');
    assert.ok(flows >= 3 && sessions === 1 && codes >= 1);

    // Nothing has ended long enough ago yet.
    assert.deepEqual(await sweepEnded(t.ctx.db.kysely, t.clock.now()), { flows: 0, sessions: 0, codes: 0 });

    // A week and a day later: the flows and codes have gone; a late click finds no flow (404), not an error.
    t.clock.advance((retentionDays.flows + 1) * DAY);
    const week = await sweepEnded(t.ctx.db.kysely, t.clock.now());
    assert.equal(week.flows, flows);
    assert.equal(week.codes, codes);
    assert.equal(week.sessions, 0, 'the session is kept longer, for the helpdesk');
    assert.equal((await c.get('activation-pin', left.body.id)).status, 404);
    // A flow started now is not touched.
    const fresh = await c.start('login');
    assert.equal((await sweepEnded(t.ctx.db.kysely, t.clock.now())).flows, 0);
    assert.equal((await c.get('login', fresh.body.id)).status, 200);

    // A month after it ended, the session goes too (it no longer opened anything).
    assert.equal((await apiClient(t.app, { bearer: token }).request('GET', '/api/v1/session')).status, 401);
    t.clock.advance(retentionDays.sessions * DAY);
    assert.equal((await sweepEnded(t.ctx.db.kysely, t.clock.now())).sessions, 1);
    assert.equal(await count('sessions'), 0);
    // The sign-in itself stays in the audit log.
    const audited = await t.ctx.db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'login.succeeded').execute();
    assert.ok(audited.length >= 1);
  });

  it('a large backlog goes in batches, all of it', async () => {
    const at = new Date(t.clock.now().getTime() - (retentionDays.codes + 1) * DAY).toISOString();
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      id: `old-${i}`, purpose: 'test', subject: `s-${i}`, code_hash: 'x', destination: null, attempts: 0, max_attempts: 5, created_at: at, expires_at: at, used_at: null, revoked_at: null,
    }));
    for (let i = 0; i < rows.length; i += 500) await t.ctx.db.kysely.insertInto('one_time_codes').values(rows.slice(i, i + 500)).execute();
    assert.equal((await sweepEnded(t.ctx.db.kysely, t.clock.now())).codes, 2500);
    assert.equal(await count('one_time_codes'), 0);
  });
});
