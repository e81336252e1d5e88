import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import bcrypt from 'bcryptjs';
import { demoStudent, seedDemoPeople } from '../../src/imports/demo-seed.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';

describe('demo seed', () => {
  let t: TestApp;
  const logs: Array<Record<string, unknown>> = [];
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const demoCtx = () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { ...t.ctx, isDemo: true, config: { ...t.ctx.config, demo: { seed: true } }, log: pino({ level: 'info' }, sink) };
  };

  it('does nothing for an institution that is not the demo, or with seeding off', async () => {
    await seedDemoPeople({ ...demoCtx(), isDemo: false });
    await seedDemoPeople({ ...demoCtx(), config: t.ctx.config });
    assert.equal((await t.ctx.db.kysely.selectFrom('persons').select('id').execute()).length, 0);
  });

  it('imports the demo people into an empty database and tells how to try activation', async () => {
    await seedDemoPeople(demoCtx());
    const rows = await t.ctx.db.kysely
      .selectFrom('persons')
      .innerJoin('accounts', 'accounts.person_id', 'persons.id')
      .select(['population', 'external_id', 'registrar_status', 'amka', 'mobile', 'personal_email', 'accounts.username', 'accounts.status', 'accounts.password_hash'])
      .execute();
    const byPop = (p: string) => rows.filter((r) => r.population === p);
    assert.ok(byPop('student').length >= 4 && byPop('staff').length >= 1 && byPop('school_staff').length >= 1 && byPop('school').length === 1);
    const enrolled = rows.find((r) => r.external_id === demoStudent.externalId)!;
    assert.equal(enrolled.status, 'pending_activation');
    assert.ok(bcrypt.compareSync(demoStudent.enrolmentPassword, enrolled.password_hash!), 'the file holds a hash of the announced password');
    assert.ok(byPop('student').some((r) => r.registrar_status === 'provisional' && r.status === 'provisional'), 'one provisional (ipotesi) record');
    assert.ok(byPop('student').some((r) => r.mobile && r.personal_email && r.amka), 'a student for PIN activation with AMKA');
    assert.ok(byPop('student').some((r) => r.mobile && r.personal_email && !r.amka), 'and one without');
    const hint = logs.find((l) => String(l.msg).includes('Demo: activate'));
    assert.equal(hint?.username, enrolled.username);
    assert.equal(hint?.enrolmentPassword, demoStudent.enrolmentPassword);
    assert.ok(!logs.some((l) => l.level === 40), 'no demo row was rejected');

    // The newcomer's first try works.
    const c = apiClient(t.app);
    const f = (await c.start('activation-password')).body;
    const r = await c.submit('activation-password', f.id, {
      population: 'student', username: enrolled.username, currentPassword: demoStudent.enrolmentPassword, newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  it('leaves a database that already has people alone', async () => {
    const before = (await t.ctx.db.kysely.selectFrom('audit_log').select('id').execute()).length;
    await seedDemoPeople(demoCtx());
    assert.equal((await t.ctx.db.kysely.selectFrom('audit_log').select('id').execute()).length, before);
  });
});

describe('demo seed on a second start', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const startLogs = async () => {
    const logs: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    await seedDemoPeople({ ...t.ctx, isDemo: true, config: { ...t.ctx.config, demo: { seed: true } }, log: pino({ level: 'info' }, sink) });
    return logs;
  };
  const hint = (logs: Array<Record<string, unknown>>) => logs.find((l) => String(l.msg).includes('Demo: activate'));

  it('tells the demo student again while it is not activated, and no longer once it is', async () => {
    assert.ok(hint(await startLogs()), 'the first start tells it');
    // Stopped before trying, started again on the same data folder: the newcomer still needs it.
    const again = await startLogs();
    assert.equal(hint(again)?.username, demoStudent.externalId);
    assert.equal(hint(again)?.enrolmentPassword, demoStudent.enrolmentPassword);
    assert.ok(!again.some((l) => l.msg === 'demo data imported'), 'nothing is imported twice');

    const c = apiClient(t.app);
    const f = (await c.start('activation-password')).body;
    const r = await c.submit('activation-password', f.id, {
      population: 'student', username: demoStudent.externalId, currentPassword: demoStudent.enrolmentPassword, newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // The enrolment password no longer works: it is not told any more.
    assert.equal(hint(await startLogs()), undefined);
  });
});
