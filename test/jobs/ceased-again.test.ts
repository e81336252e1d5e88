import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { csv, postImport } from '../imports/helpers.js';

const DAY = 86_400_000;

async function runJob(t: TestApp, job: string, dryRun = false) {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${job}${dryRun ? '?dryRun=true' : ''}`, headers: adminHeaders });
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as { counts: Record<string, number>; accounts: Array<{ username: string; action: string }> };
}

const statusOf = async (t: TestApp, id: string) => (await t.ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

describe('expire-ceased: a record that ceases again', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('gets a new grace period, whoever suspended it the second time', async () => {
    assert.equal(t.ctx.config.lifecycle.ceasedGraceDays, 180);
    t.clock.set('2026-01-10T10:00:00Z');
    const jobFirst = await seedAccount(t.ctx, { externalId: 'RC1', registrarStatus: 'enrolled', status: 'active', username: 'rc1' });
    const importFirst = await seedAccount(t.ctx, { externalId: 'RC2', registrarStatus: 'enrolled', status: 'active', username: 'rc2' });
    const registrar = (rows: string[][]) => postImport(t, csv(['externalId', 'status'], ...rows), 'population=student');

    // RC1 ceases and the job suspends it; RC2 ceases and the import suspends it (the job starts its grace).
    await t.ctx.db.kysely.updateTable('persons').set({ registrar_status: 'ceased' }).where('external_id', '=', 'RC1').execute();
    assert.equal((await registrar([['RC2', 'ceased']])).status, 200);
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { suspended: 1, grace_started: 1 });

    // Enrolled again 100 days later: both back in use.
    t.clock.advance(100 * DAY);
    await registrar([['RC1', 'enrolled'], ['RC2', 'enrolled']]);
    assert.equal(await statusOf(t, jobFirst.accountId), 'active');
    assert.equal(await statusOf(t, importFirst.accountId), 'active');
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, {});

    // Ceased again 100 days later, the import suspending them: the grace starts again, nobody is purged now.
    t.clock.advance(100 * DAY);
    await registrar([['RC1', 'ceased'], ['RC2', 'ceased']]);
    assert.equal(await statusOf(t, jobFirst.accountId), 'suspended');
    assert.deepEqual((await runJob(t, 'expire-ceased', true)).counts, { grace_started: 2 });
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { grace_started: 2 });
    assert.equal(await statusOf(t, jobFirst.accountId), 'suspended');
    assert.equal(await statusOf(t, importFirst.accountId), 'suspended');
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, {});

    t.clock.advance(179 * DAY);
    assert.deepEqual((await runJob(t, 'expire-ceased', true)).counts, {});
    t.clock.advance(2 * DAY);
    assert.deepEqual((await runJob(t, 'expire-ceased', true)).counts, { purged: 2 });
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { purged: 2 });
    assert.equal(await statusOf(t, jobFirst.accountId), 'purged');
    const steps = await t.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('account_id', '=', importFirst.accountId)
      .where('action', 'in', ['account.status_changed', 'account.grace_started'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      steps.map((s) => `${s.action}:${(JSON.parse(s.details) as { to?: string }).to ?? ''}`),
      ['account.status_changed:suspended', 'account.grace_started:', 'account.status_changed:active', 'account.status_changed:suspended', 'account.grace_started:', 'account.status_changed:purged'],
    );
  });
});

describe('expire-ceased without a grace period', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.lifecycle.ceasedGraceDays = 0)) });
  });
  after(() => t.close());

  it('the dry run reports the purges the run then makes at once', async () => {
    t.clock.set('2026-03-01T10:00:00Z');
    for (const [id, status] of [['Z1', 'active'], ['Z2', 'provisional'], ['Z3', 'locked'], ['Z4', 'suspended']] as const) {
      await seedAccount(t.ctx, { externalId: id, registrarStatus: 'ceased', status, username: id.toLowerCase() });
    }
    const sorted = (a: Array<{ username: string; action: string }>) => [...a].sort((x, y) => `${x.action}${x.username}`.localeCompare(`${y.action}${y.username}`));
    const dry = await runJob(t, 'expire-ceased', true);
    assert.deepEqual(dry.counts, { suspended: 2, expired: 1, grace_started: 1, purged: 4 });
    const run = await runJob(t, 'expire-ceased');
    assert.deepEqual(run.counts, dry.counts);
    assert.deepEqual(sorted(run.accounts), sorted(dry.accounts));
    assert.deepEqual(await runJob(t, 'expire-ceased', true).then((r) => r.counts), {});
    assert.deepEqual(await runJob(t, 'expire-ceased').then((r) => r.counts), {});
  });
});

describe('expire-ceased counts the grace period in days of the institution', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('suspended at the 03:00 run on 10 January, purged at the 03:00 run 180 days later, summer time or not', async () => {
    // 10 January 2026, 03:00 in Rome (CET): the scheduled run, a little after the hour.
    t.clock.set('2026-01-10T02:00:00.400Z');
    const s = await seedAccount(t.ctx, { externalId: 'D180', registrarStatus: 'ceased', status: 'active', username: 'd180' });
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { suspended: 1 });
    // 8 July 2026, 03:00 in Rome (CEST): day 179.
    t.clock.set('2026-07-08T01:00:00.100Z');
    assert.deepEqual((await runJob(t, 'expire-ceased', true)).counts, {});
    // 9 July 2026, 03:00 in Rome: 180 days on, an hour less by UTC and a moment earlier in its minute.
    t.clock.set('2026-07-09T01:00:00.100Z');
    assert.deepEqual((await runJob(t, 'expire-ceased', true)).counts, { purged: 1 });
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { purged: 1 });
    assert.equal(await statusOf(t, s.accountId), 'purged');
  });
});
