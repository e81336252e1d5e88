import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeApp, testConfig } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { details } from '../registration/outbox.js';
import { startScheduler } from '../../src/jobs/scheduler.js';
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
});
