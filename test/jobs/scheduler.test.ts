import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeApp, testConfig } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { details } from '../registration/outbox.js';
import { nextRun, startScheduler } from '../../src/jobs/scheduler.js';
import { parseInstitution } from '../../src/config/load-institution.js';
import { TestClock } from '../../src/ports/clock.js';

describe('job scheduler', () => {
  it('runs a job on its cron schedule; two instances on one database share one lease', async () => {
    const t = await makeApp({ clock: new TestClock(new Date()), config: testConfig((c) => (c.jobs.schedule = { 'expire-unverified': '* * * * * *' })) });
    try {
      const c = apiClient(t.app);
      const f = (await c.start('registration')).body;
      assert.equal((await c.submit('registration', f.id, details())).status, 200);
      t.clock.advance(25 * 3_600_000);
      const stops = [startScheduler(t.ctx), startScheduler(t.ctx)];
      let status = '';
      for (let i = 0; i < 100 && status !== 'purged'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        // The only account in this database: the registration made above.
        status = (await t.ctx.db.kysely.selectFrom('accounts').select('status').executeTakeFirst())?.status ?? '';
      }
      for (const s of stops) await s();
      assert.equal(status, 'purged');
      const lease = await t.ctx.db.kysely.selectFrom('job_leases').selectAll().where('job', '=', 'expire-unverified').executeTakeFirstOrThrow();
      assert.match(lease.last_slot ?? '', /^\d{4}-\d\d-\d\dT/);
      const steps = await t.ctx.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'account.status_changed').execute();
      assert.equal(steps.filter((s) => JSON.parse(s.details).to === 'purged').length, 1);
    } finally {
      await t.close();
    }
  });

  it('refuses a configuration with a bad cron expression, naming the key', () => {
    const yaml = 'institution: {id: x, name: X, domain: x.example.org}\njobs:\n  schedule:\n    purge-unused: "every night"\n';
    assert.throws(() => parseInstitution(yaml, 'x.yaml'), /x\.yaml: jobs\.schedule\.purge-unused must be a cron expression/);
  });

  it('refuses a schedule time zone that does not exist, naming the key (the scheduler could not start with it)', () => {
    const yaml = 'institution: {id: x, name: X, domain: x.example.org}\njobs:\n  timezone: Europe/Roma\n  schedule:\n    purge-unused: "30 2 * * *"\n';
    assert.throws(() => parseInstitution(yaml, 'x.yaml'), /x\.yaml: jobs\.timezone must be a time zone such as Europe\/Rome/);
    assert.equal(parseInstitution(yaml.replace('Europe/Roma', 'Europe/Athens'), 'x.yaml').jobs.timezone, 'Europe/Athens');
  });

  it('reads the cron expressions on the institution’s clocks when jobs.timezone is left out', () => {
    const athens = parseInstitution('institution: {id: uop, name: UoP, domain: uop.example.org, timeZone: Europe/Athens}\njobs:\n  schedule:\n    expire-ceased: "0 3 * * *"\n', 'uop.yaml');
    assert.equal(nextRun({ config: athens }, '0 3 * * *', new Date('2027-01-10T12:00:00Z')).toISOString(), '2027-01-11T01:00:00.000Z');
    assert.equal(nextRun({ config: athens }, '0 3 * * *', new Date('2027-07-10T12:00:00Z')).toISOString(), '2027-07-11T00:00:00.000Z');
  });

  it('runs once on the nights the clocks change (Europe/Rome)', () => {
    const rome = testConfig();
    const runs = (expr: string, from: string, n: number) => {
      const out: string[] = [];
      let at = new Date(from);
      for (let i = 0; i < n; i++) out.push((at = nextRun({ config: rome }, expr, at)).toISOString());
      return out;
    };
    // 28 March 2027: 02:30 does not exist, the run is at 03:30 summer time; every other night at 02:30.
    assert.deepEqual(runs('30 2 * * *', '2027-03-26T12:00:00Z', 3), ['2027-03-27T01:30:00.000Z', '2027-03-28T01:30:00.000Z', '2027-03-29T00:30:00.000Z']);
    // 31 October 2027: 02:30 comes twice, the run happens once.
    assert.deepEqual(runs('30 2 * * *', '2027-10-29T12:00:00Z', 3), ['2027-10-30T00:30:00.000Z', '2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z']);
    assert.deepEqual(runs('0 3 * * *', '2027-03-27T12:00:00Z', 2), ['2027-03-28T01:00:00.000Z', '2027-03-29T01:00:00.000Z']);
    assert.deepEqual(runs('0 3 * * *', '2027-10-30T12:00:00Z', 2), ['2027-10-31T02:00:00.000Z', '2027-11-01T02:00:00.000Z']);
  });
});
