import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { lastMessage } from '../registration/outbox.js';
import { audit } from '../../src/audit/audit.js';
import { startOfDate } from '../../src/i18n/dates.js';

async function runJob(t: TestApp, job: string, dryRun = false) {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${job}${dryRun ? '?dryRun=true' : ''}`, headers: adminHeaders });
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as { counts: Record<string, number>; accounts: Array<{ username: string; action: string }> };
}

const statusOf = async (t: TestApp, id: string) => (await t.ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

describe('purge-unused counts years in the institution’s time zone', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('31 December and 1 January are Rome’s, not UTC’s: registrations, logins and the purge day', async () => {
    assert.equal(t.ctx.config.institution.timeZone, 'Europe/Rome');
    const external = (id: string, username: string) =>
      seedAccount(t.ctx, { externalId: id, population: 'external', username, email: `${username}@example.org`, personalEmail: `${username}@example.org`, status: 'active' });
    // 31 December 2025, 23:30 in Rome: registered in 2025.
    t.clock.set('2025-12-31T22:30:00Z');
    const lastDay = await external('tz-1', 'last.day');
    // 1 January 2026, 00:30 in Rome (still 31 December in UTC): registered in 2026.
    t.clock.set('2025-12-31T23:30:00Z');
    const firstDay = await external('tz-2', 'first.day');
    // Registered in 2024, last signed in on 1 January 2026 at 00:30 in Rome: used in 2026.
    t.clock.set('2024-05-01T10:00:00Z');
    const newYearLogin = await external('tz-3', 'new.year.login');
    t.clock.set('2025-12-31T23:30:00Z');
    await audit(t.ctx.db.kysely, t.clock.now(), { actor: 'x', action: 'login.succeeded', accountId: newYearLogin.accountId });

    t.clock.set('2026-12-03T03:00:00Z');
    const warned = await runJob(t, 'purge-unused');
    assert.deepEqual(warned.accounts, [{ username: 'last.day', action: 'warned' }]);
    assert.match((await lastMessage(t.ctx, 'last.day@example.org', 'purge_warning'))!.text, /1° gennaio 2027/);
    assert.equal(await lastMessage(t.ctx, 'first.day@example.org', 'purge_warning'), null);

    // 1 January 2027 at 00:30 in Rome: the day the warning named has come.
    t.clock.set('2026-12-31T23:30:00Z');
    const dry = await runJob(t, 'purge-unused', true);
    assert.deepEqual(dry.accounts, [{ username: 'last.day', action: 'purged' }]);
    const run = await runJob(t, 'purge-unused');
    assert.deepEqual(run.accounts, dry.accounts);
    assert.equal(await statusOf(t, lastDay.accountId), 'purged');
    assert.equal(await statusOf(t, firstDay.accountId), 'active');
    assert.equal(await statusOf(t, newYearLogin.accountId), 'active');
    assert.deepEqual((await runJob(t, 'purge-unused')).counts, {});
  });

  it('the start of a day in a time zone, across offsets', () => {
    assert.equal(startOfDate('2027-01-01', 'Europe/Rome').toISOString(), '2026-12-31T23:00:00.000Z');
    assert.equal(startOfDate('2027-01-01', 'Europe/Athens').toISOString(), '2026-12-31T22:00:00.000Z');
    assert.equal(startOfDate('2027-01-01', 'UTC').toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal(startOfDate('2028-02-29', 'Europe/Rome').toISOString(), '2028-02-28T23:00:00.000Z');
    // The nights the clocks change: midnight is before the change, in the previous offset.
    assert.equal(startOfDate('2027-03-28', 'Europe/Rome').toISOString(), '2027-03-27T23:00:00.000Z');
    assert.equal(startOfDate('2027-03-29', 'Europe/Rome').toISOString(), '2027-03-28T22:00:00.000Z');
    assert.equal(startOfDate('2027-10-31', 'Europe/Rome').toISOString(), '2027-10-30T22:00:00.000Z');
    assert.equal(startOfDate('2027-11-01', 'Europe/Rome').toISOString(), '2027-10-31T23:00:00.000Z');
  });
});
