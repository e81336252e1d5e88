import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { details } from '../registration/outbox.js';
import { csv, postImport } from '../imports/helpers.js';
import { findPurgedRecords, markRecordsPurged, purgedRecordKey } from '../../src/accounts/purged-records.js';

const DAY = 86_400_000;

async function runJob(t: TestApp, job: string, dryRun = false) {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${job}${dryRun ? '?dryRun=true' : ''}`, headers: adminHeaders });
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as { counts: Record<string, number> };
}

const HEADER = ['externalId', 'givenName', 'familyName', 'taxCode', 'personalEmail', 'status'];
const row = (id: string, status: string) => [id, 'Laura', 'Verdi', '', `${id.toLowerCase()}@example.org`, status];

describe('a record purged after it ceased does not come back with the registrar file', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const db = () => t.ctx.db.kysely;
  const personsOf = (id: string) => db().selectFrom('persons').select(['id', 'registrar_status']).where('population', '=', 'student').where('external_id', '=', id).execute();
  const accountOf = (personId: string) => db().selectFrom('accounts').select(['id', 'status', 'username']).where('person_id', '=', personId).executeTakeFirstOrThrow();
  const markers = () => db().selectFrom('purged_records').selectAll().execute();

  it('skips rows of a purged record while they say it ended; a re-enrolment creates a new person and account', async () => {
    t.clock.set('2026-01-10T10:00:00Z');
    const file = (...rows: string[][]) => csv(HEADER, ...rows);
    const first = await postImport(t, file(row('PR1', 'enrolled'), row('PR2', 'enrolled'), row('PR3', 'enrolled')), 'population=student');
    assert.equal(first.body.created, 3);
    // PR1 and PR2 cease; the job suspends what is in use, waits its grace period and purges them.
    const ceased = file(row('PR1', 'ceased'), row('PR2', 'ceased'), row('PR3', 'enrolled'));
    assert.equal((await postImport(t, ceased, 'population=student')).body.updated, 2);
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { grace_started: 2 });
    t.clock.advance(181 * DAY);
    assert.deepEqual((await runJob(t, 'expire-ceased')).counts, { purged: 2 });
    assert.equal((await personsOf('PR1')).length, 0);
    const purgedAt = t.clock.now().toISOString();

    // The registrar sends the same file the next night: the purged records stay purged.
    t.clock.advance(DAY);
    const before = await db().selectFrom('audit_log').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const dry = await postImport(t, ceased, 'population=student&dryRun=true');
    assert.deepEqual({ ...dry.body, rejected: dry.body.rejected.length }, { dryRun: true, created: 0, updated: 0, unchanged: 1, skippedPurged: 2, rejected: 0 });
    const again = await postImport(t, ceased, 'population=student');
    assert.deepEqual({ ...again.body, rejected: again.body.rejected.length }, { dryRun: false, created: 0, updated: 0, unchanged: 1, skippedPurged: 2, rejected: 0 });
    assert.equal((await personsOf('PR1')).length, 0);
    assert.equal((await personsOf('PR2')).length, 0);
    const afterImport = await db().selectFrom('audit_log').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterImport.n), Number(before.n), 'nothing written');
    // What is left of them: a keyed hash, when and why. No id, name or address of theirs.
    const left = await markers();
    assert.equal(left.length, 2);
    for (const m of left) {
      assert.deepEqual(Object.keys(m).sort(), ['key', 'purged_at', 'reason']);
      assert.equal(m.reason, 'registrar.ceased');
      assert.equal(m.purged_at, purgedAt);
      assert.doesNotMatch(JSON.stringify(m), /PR[12]|Laura|Verdi|example\.org/);
    }

    // Nor does a row without a status (a blank cell or a row leaving the column out) bring one back,
    // nor a registrar suspension.
    const blank = await postImport(t, file(row('PR1', ''), row('PR2', 'suspended')), 'population=student');
    assert.equal(blank.body.skippedPurged, 2);
    const partial = await postImport(t, '{"externalId":"PR1"}\n{"externalId":"PR2","status":"ceased"}\n', 'population=student', 'application/x-ndjson');
    assert.deepEqual({ ...partial.body, rejected: partial.body.rejected.length }, { dryRun: false, created: 0, updated: 0, unchanged: 0, skippedPurged: 2, rejected: 0 });
    assert.equal((await markers()).length, 2);

    // Years later PR2 enrols again: a new person and account, as for anyone new (a dry run says so first).
    t.clock.advance(700 * DAY);
    const back = file(row('PR1', 'ceased'), row('PR2', 'enrolled'));
    const dryBack = await postImport(t, back, 'population=student&dryRun=true');
    assert.deepEqual([dryBack.body.created, dryBack.body.skippedPurged], [1, 1]);
    assert.equal((await personsOf('PR2')).length, 0);
    const returned = await postImport(t, back, 'population=student');
    assert.deepEqual([returned.body.created, returned.body.skippedPurged], [1, 1]);
    const [pr2] = await personsOf('PR2');
    assert.ok(pr2);
    assert.equal(pr2.registrar_status, 'enrolled');
    const acc = await accountOf(pr2.id);
    assert.deepEqual([acc.status, acc.username], ['pending_activation', 'pr2']);
    const created = await db().selectFrom('audit_log').select('details').where('person_id', '=', pr2.id).where('action', '=', 'person.created').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(created.details).purgedBefore, true);
    // Its marker went with its return: from now on it is a record like any other.
    assert.equal((await markers()).length, 1);
    const next = await postImport(t, file(row('PR2', 'ceased')), 'population=student');
    assert.deepEqual([next.body.updated, next.body.skippedPurged], [1, undefined], 'no skippedPurged when none was skipped');
    assert.equal((await accountOf(pr2.id)).status, 'expired');
  });

  it('a record marked again keeps one marker, with the newer date and reason', async () => {
    const rec = [{ population: 'staff', external_id: 'ST-1' }];
    const mark = (at: string, reason: string) => db().transaction().execute((tx) => markRecordsPurged(tx, t.ctx, rec, new Date(at), reason));
    await mark('2031-01-01T00:00:00Z', 'first');
    await mark('2031-02-01T00:00:00Z', 'second');
    const key = purgedRecordKey(t.ctx, 'staff', 'ST-1');
    assert.notEqual(key, purgedRecordKey(t.ctx, 'student', 'ST-1'), 'the population is part of the key');
    assert.deepEqual(await db().selectFrom('purged_records').selectAll().where('key', '=', key).execute(), [{ key, purged_at: '2031-02-01T00:00:00.000Z', reason: 'second' }]);
    assert.deepEqual([...(await findPurgedRecords(db(), t.ctx.db.dialect, [key, 'other']))], [key]);
    await db().deleteFrom('purged_records').where('key', '=', key).execute();
  });

  it('registrations purged by purge-unused and expire-unverified leave no marker', async () => {
    t.clock.set('2030-06-01T10:00:00Z');
    const count = async () => (await markers()).length;
    const was = await count();
    await seedAccount(t.ctx, { externalId: 'ext-unused', population: 'external', username: 'unused.x', status: 'active' });
    const c = apiClient(t.app);
    const f = (await c.start('registration')).body;
    assert.equal((await c.submit('registration', f.id, details({ username: 'never.verified', email: 'nv@example.org' }))).status, 200);
    t.clock.advance(2 * DAY);
    assert.deepEqual((await runJob(t, 'expire-unverified')).counts, { purged: 1 });
    t.clock.set('2032-01-02T10:00:00Z');
    assert.equal((await runJob(t, 'purge-unused')).counts.purged, 1);
    assert.equal(await count(), was);
  });
});
