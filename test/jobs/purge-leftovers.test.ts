import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { csv, postImport } from '../imports/helpers.js';

const DAY = 86_400_000;

describe('a purge leaves nothing of the person behind', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('the code of an address change not yet confirmed goes with the account, and with it the address it was sent to', async () => {
    t.clock.set('2026-02-01T10:00:00Z');
    const s = await seedAccount(t.ctx, { externalId: 'P500', registrarStatus: 'enrolled', status: 'active', username: 'p500', email: 'p500@studenti.unidemo.example.org', password: 'Pietro-Pass-2026' });
    const anon = apiClient(t.app);
    const l = await anon.start('login');
    const token = (await anon.submit('login', l.body.id, { username: 'p500', password: 'Pietro-Pass-2026' })).body.result.sessionToken as string;
    const me = apiClient(t.app, { bearer: token });
    const f = (await me.start('email-change')).body;
    assert.equal((await me.submit('email-change', f.id, { email: 'pietro.private@example.org' })).body.state, 'awaiting_confirmation');
    const codes = () => t.ctx.db.kysely.selectFrom('one_time_codes').select(['subject', 'destination']).where('destination', '=', 'pietro.private@example.org').execute();
    assert.equal((await codes()).length, 1);

    assert.equal((await postImport(t, csv(['externalId', 'status'], ['P500', 'ceased']), 'population=student')).status, 200);
    const job = async () => (await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/expire-ceased', headers: adminHeaders })).json().counts;
    assert.deepEqual(await job(), { grace_started: 1 });
    t.clock.advance(181 * DAY);
    assert.deepEqual(await job(), { purged: 1 });
    assert.equal((await t.ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', s.accountId).executeTakeFirstOrThrow()).status, 'purged');
    assert.deepEqual(await codes(), []);
    assert.equal(await t.ctx.db.kysely.selectFrom('flows').select('id').where('id', '=', f.id).executeTakeFirst(), undefined);
  });
});
