import assert from 'node:assert/strict';
import { translate } from '../../src/i18n/index.js';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { details, lastMessage } from '../registration/outbox.js';
import { acquireLease, releaseLease } from '../../src/jobs/lease.js';
import { createSession } from '../../src/sessions/sessions.js';
import { audit } from '../../src/audit/audit.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function runJob(t: TestApp, job: string, dryRun = false) {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${job}${dryRun ? '?dryRun=true' : ''}`, headers: adminHeaders });
  return { status: r.statusCode, body: r.json() as any };
}

const statusOf = async (t: TestApp, id: string) => (await t.ctx.db.kysely.selectFrom('accounts').select(['status', 'username', 'person_id']).where('id', '=', id).executeTakeFirstOrThrow());
const auditFor = async (t: TestApp, id: string) => (await t.ctx.db.kysely.selectFrom('audit_log').select(['action', 'details', 'actor']).where('account_id', '=', id).orderBy('id').execute());

describe('lifecycle jobs', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('expire-unverified: dry run changes nothing; the run removes expired registrations once', async () => {
    t.clock.set('2026-11-23T09:00:00Z');
    const c = apiClient(t.app);
    for (const [username, email] of [['stale.one', 'stale1@example.org'], ['fresh.one', 'fresh1@example.org']]) {
      if (username === 'fresh.one') t.clock.advance(20 * HOUR);
      const f = (await c.start('registration')).body;
      const r = await c.submit('registration', f.id, details({ username, email }));
      assert.equal(r.status, 200);
    }
    t.clock.advance(5 * HOUR); // the first is 25 hours old, the second 5
    const dry = await runJob(t, 'expire-unverified', true);
    assert.equal(dry.status, 200);
    assert.equal(dry.body.dryRun, true);
    assert.deepEqual(dry.body.counts, { purged: 1 });
    assert.deepEqual(dry.body.accounts, [{ username: 'stale.one', action: 'purged' }]);
    const stale = await t.ctx.db.kysely.selectFrom('accounts').select('id').where('username_lower', '=', 'stale.one').executeTakeFirstOrThrow();
    assert.equal((await statusOf(t, stale.id)).status, 'pending_verification');
    const run = await runJob(t, 'expire-unverified');
    assert.deepEqual(run.body.counts, { purged: 1 });
    const s = await statusOf(t, stale.id);
    assert.equal(s.status, 'purged');
    assert.equal(s.person_id, null);
    assert.notEqual(s.username, 'stale.one');
    const entries = await auditFor(t, stale.id);
    assert.ok(entries.some((e) => e.action === 'account.status_changed' && e.actor === 'job:expire-unverified' && JSON.parse(e.details).to === 'purged'));
    const again = await runJob(t, 'expire-unverified');
    assert.deepEqual(again.body.counts, {});
    assert.equal((await auditFor(t, stale.id)).length, entries.length);
    // The username and the address are free again.
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username: 'stale.one', email: 'stale1@example.org' }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  it('purge-unused: registered up to 31 December and unused the following year; warning first, once', async () => {
    t.clock.set('2024-06-01T10:00:00Z');
    const a = await seedAccount(t.ctx, { externalId: 'ext-a', population: 'external', username: 'unused.a', email: 'a@example.org', personalEmail: 'a@example.org', status: 'active' });
    const b = await seedAccount(t.ctx, { externalId: 'ext-b', population: 'external', username: 'used.b', email: 'b@example.org', personalEmail: 'b@example.org', status: 'active' });
    const student = await seedAccount(t.ctx, { externalId: 'S77', population: 'student', username: 's77', status: 'active' });
    t.clock.set('2025-03-10T10:00:00Z');
    await audit(t.ctx.db.kysely, t.clock.now(), { actor: 'x', action: 'login.succeeded', accountId: b.accountId });
    await createSession(t.ctx.db.kysely, a.accountId, t.clock.now(), DAY * 400, { ip: null });
    t.clock.set('2025-06-01T10:00:00Z');
    const c = await seedAccount(t.ctx, { externalId: 'ext-c', population: 'external', username: 'recent.c', email: 'c@example.org', personalEmail: 'c@example.org', status: 'active' });

    t.clock.set('2026-05-01T03:00:00Z');
    const run = await runJob(t, 'purge-unused');
    assert.deepEqual(run.body.counts, { purged: 1 });
    assert.equal((await statusOf(t, a.accountId)).status, 'purged');
    assert.equal((await statusOf(t, b.accountId)).status, 'active');
    assert.equal((await statusOf(t, c.accountId)).status, 'active');
    assert.equal((await statusOf(t, student.accountId)).status, 'active');
    assert.equal(await t.ctx.db.kysely.selectFrom('persons').select('id').where('id', '=', a.personId).executeTakeFirst(), undefined);
    assert.equal((await t.ctx.db.kysely.selectFrom('sessions').select('id').where('account_id', '=', a.accountId).execute()).length, 0);
    const steps = (await auditFor(t, a.accountId)).filter((e) => e.action === 'account.status_changed').map((e) => JSON.parse(e.details));
    assert.deepEqual(steps, [{ from: 'active', to: 'purged', via: ['expired'], reason: 'registration.unused' }]);

    // 30 days before 1 January 2027: b (unused in 2026) and c (registered 2025, unused) are warned.
    t.clock.set('2026-11-30T03:00:00Z');
    assert.deepEqual((await runJob(t, 'purge-unused')).body.counts, {});
    t.clock.set('2026-12-03T03:00:00Z');
    const warn = await runJob(t, 'purge-unused');
    assert.deepEqual(warn.body.counts, { warned: 2 });
    const mail = await lastMessage(t.ctx, 'c@example.org', 'purge_warning');
    assert.ok(mail);
    assert.match(mail.text, /recent\.c/);
    assert.match(mail.text, /http:\/\/localhost:3000\/flows\/login/);
    // Nobody asked for this warning: it never says to ignore it.
    for (const locale of ['it', 'en', 'el'] as const) assert.ok(!mail.text.includes(translate(locale, 'mail.ignore')), locale);
    t.clock.advance(DAY);
    assert.deepEqual((await runJob(t, 'purge-unused')).body.counts, {});
    assert.equal((await lastMessage(t.ctx, 'c@example.org', 'purge_warning'))!.count, 1);
    // c signs in during December: kept. b is purged on 2 January.
    await audit(t.ctx.db.kysely, t.clock.now(), { actor: 'x', action: 'login.succeeded', accountId: c.accountId });
    t.clock.set('2027-01-02T03:00:00Z');
    const dry = await runJob(t, 'purge-unused', true);
    assert.deepEqual(dry.body.accounts, [{ username: 'used.b', action: 'purged' }]);
    assert.deepEqual((await runJob(t, 'purge-unused')).body.counts, { purged: 1 });
    assert.equal((await statusOf(t, b.accountId)).status, 'purged');
    assert.equal((await statusOf(t, c.accountId)).status, 'active');
  });

  it('expire-ceased: suspended (sessions ended), then purged after the grace period, each step audited', async () => {
    t.clock.set('2026-01-10T10:00:00Z');
    const x = await seedAccount(t.ctx, { externalId: 'C900', registrarStatus: 'ceased', status: 'active', username: 'c900' });
    const p = await seedAccount(t.ctx, { externalId: 'C901', registrarStatus: 'ceased', status: 'provisional', username: 'c901' });
    const keep = await seedAccount(t.ctx, { externalId: 'C902', registrarStatus: 'enrolled', status: 'active', username: 'c902' });
    const session = await createSession(t.ctx.db.kysely, x.accountId, t.clock.now(), DAY, { ip: null });
    const dry = await runJob(t, 'expire-ceased', true);
    assert.deepEqual(dry.body.counts, { suspended: 1, expired: 1 });
    assert.equal((await statusOf(t, x.accountId)).status, 'active');
    const run = await runJob(t, 'expire-ceased');
    assert.deepEqual(run.body.counts, { suspended: 1, expired: 1 });
    assert.equal((await statusOf(t, x.accountId)).status, 'suspended');
    assert.equal((await statusOf(t, p.accountId)).status, 'expired');
    assert.equal((await statusOf(t, keep.accountId)).status, 'active');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { authorization: `Bearer ${session.token}` } });
    assert.equal(me.statusCode, 401);
    assert.deepEqual((await runJob(t, 'expire-ceased')).body.counts, {});
    t.clock.advance(179 * DAY);
    assert.deepEqual((await runJob(t, 'expire-ceased')).body.counts, {});
    t.clock.advance(2 * DAY);
    assert.deepEqual((await runJob(t, 'expire-ceased')).body.counts, { purged: 2 });
    assert.equal((await statusOf(t, x.accountId)).status, 'purged');
    const steps = (await auditFor(t, x.accountId)).filter((e) => e.action === 'account.status_changed').map((e) => `${JSON.parse(e.details).to}:${JSON.parse(e.details).reason}`);
    assert.deepEqual(steps, ['suspended:registrar.ceased', 'purged:registrar.ceased']);
  });

  it('dryRun is read strictly: anything but true/false (or 1/0), or an unknown parameter, is refused and runs nothing', async () => {
    const x = await seedAccount(t.ctx, { externalId: 'C950', registrarStatus: 'ceased', status: 'active', username: 'c950' });
    const post = async (query: string) => {
      const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/expire-ceased${query}`, headers: adminHeaders });
      return { status: r.statusCode, body: r.json() as any };
    };
    const refused: Array<[string, Record<string, string>]> = [
      ['?dryRun=yes', { dryRun: 'field.invalid' }],
      ['?dryRun=on', { dryRun: 'field.invalid' }],
      ['?dryRun', { dryRun: 'field.invalid' }],
      ['?dryRun=', { dryRun: 'field.invalid' }],
      ['?dryRun=true&dryRun=false', { dryRun: 'field.invalid' }],
      ['?dryrun=true', { dryrun: 'field.unknown' }],
      ['?dryRun=true&force=1', { force: 'field.unknown' }],
    ];
    for (const [query, fields] of refused) {
      const r = await post(query);
      assert.equal(r.status, 422, query);
      assert.equal(r.body.error.code, 'validation.failed', query);
      assert.deepEqual(r.body.error.fields, fields, query);
      assert.equal((await statusOf(t, x.accountId)).status, 'active', query);
    }
    assert.equal((await auditFor(t, x.accountId)).length, 0);
    for (const query of ['?dryRun=True', '?dryRun=TRUE', '?dryRun=1', '?dryRun=true&lang=it']) {
      const r = await post(query);
      assert.equal(r.status, 200, query);
      assert.equal(r.body.dryRun, true, query);
      assert.equal((await statusOf(t, x.accountId)).status, 'active', query);
    }
    const real = await post('?dryRun=FALSE');
    assert.equal(real.body.dryRun, false, JSON.stringify(real.body));
    assert.equal((await statusOf(t, x.accountId)).status, 'suspended');
  });

  it('one instance at a time: a held lease answers job.running; a scheduled slot runs once', async () => {
    assert.equal(await acquireLease(t.ctx, 'expire-ceased', 'other-instance', 60_000), true);
    const busy = await runJob(t, 'expire-ceased');
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'job.running');
    assert.equal((await runJob(t, 'expire-ceased', true)).status, 200);
    await releaseLease(t.ctx, 'expire-ceased', 'other-instance');
    assert.equal((await runJob(t, 'expire-ceased')).status, 200);
    assert.equal(await acquireLease(t.ctx, 'slot-test', 'i1', 60_000, '2027-01-02T02:30:00.000Z'), true);
    await releaseLease(t.ctx, 'slot-test', 'i1');
    assert.equal(await acquireLease(t.ctx, 'slot-test', 'i2', 60_000, '2027-01-02T02:30:00.000Z'), false);
    assert.equal(await acquireLease(t.ctx, 'slot-test', 'i2', 60_000, '2027-01-03T02:30:00.000Z'), true);
    await releaseLease(t.ctx, 'slot-test', 'i2');
    const unknown = await runJob(t, 'nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'job.unknown');
    const noToken = await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/expire-ceased' });
    assert.equal(noToken.statusCode, 401);
  });

  it('audit rows cannot be changed or removed', async () => {
    await assert.rejects(t.ctx.db.kysely.deleteFrom('audit_log').execute(), /append-only/);
    await assert.rejects(t.ctx.db.kysely.updateTable('audit_log').set({ actor: 'x' }).execute(), /append-only/);
  });
});
