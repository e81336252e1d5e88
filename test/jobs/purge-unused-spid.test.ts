import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';
import { mario, postResponse, spidApp, specFor, startLogin } from '../spid/harness.js';
import { TestIdp } from '../spid/test-idp.js';

describe('purge-unused: a SPID sign-in is use of the account', () => {
  let t: TestApp;
  let idp: TestIdp;
  before(async () => {
    idp = await TestIdp.create();
    t = await spidApp(idp);
  });
  after(() => t.close());

  const spidLogin = async () => {
    const s = await startLogin(t, idp);
    const r = await postResponse(t, s, idp.responseXml(specFor(t, idp, s, mario)), { html: true });
    assert.equal(r.statusCode, 303, r.body);
  };
  const runJob = async (dryRun = false) => {
    const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/purge-unused${dryRun ? '?dryRun=true' : ''}`, headers: adminHeaders });
    assert.equal(r.statusCode, 200, r.body);
    return r.json() as { counts: Record<string, number> };
  };

  it('an external account SPID made in 2025 and signed in to with SPID in 2026 is neither warned nor purged', async () => {
    t.clock.set('2025-05-04T09:00:00Z');
    await spidLogin();
    const account = await t.ctx.db.kysely
      .selectFrom('accounts')
      .innerJoin('persons', 'persons.id', 'accounts.person_id')
      .select(['accounts.id', 'persons.population'])
      .where('persons.tax_code', '=', mario.fiscalNumber.slice(6))
      .executeTakeFirstOrThrow();
    assert.equal(account.population, 'external');
    t.clock.set('2026-09-14T09:00:00Z');
    await spidLogin();
    t.clock.set('2026-12-03T03:00:00Z');
    assert.deepEqual((await runJob()).counts, {});
    t.clock.set('2027-01-02T03:00:00Z');
    assert.deepEqual((await runJob(true)).counts, {});
    assert.deepEqual((await runJob()).counts, {});
    const status = await t.ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', account.id).executeTakeFirstOrThrow();
    assert.equal(status.status, 'active');
    // Unused through 2027: warned in December, purged on 2 January 2028.
    t.clock.set('2027-12-03T03:00:00Z');
    assert.deepEqual((await runJob()).counts, { warned: 1 });
    t.clock.set('2028-01-02T03:00:00Z');
    assert.deepEqual((await runJob()).counts, { purged: 1 });
  });
});
