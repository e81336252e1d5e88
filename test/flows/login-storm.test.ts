import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { passwordGate } from '../../src/auth/passwords.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

// The gate's rule: as many hashes at once as cores, at most 4.
const concurrency = Math.max(1, Math.min(4, availableParallelism()));

/** Waits (a few milliseconds at a time) until `cond` holds; the test never measures time. */
async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 5000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), what);
}

/** Hashes that take the gate's places and finish only when the test says so. */
function holder() {
  let release!: () => void;
  const done = passwordGate.run(() => new Promise<void>((r) => (release = r)), 'test:hold');
  return { done, release: () => release() };
}

describe('login storm: the hash queue is fair per client address', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.login.maxFailuresPerAddress = 50;
      }),
    });
    await seedAccount(t.ctx, { externalId: 'student1', status: 'active', password: 'Corretta-Pw1' });
  });
  after(() => t.close());

  it('serves a login from a new address before the queue of a busy address drains', async () => {
    const storm = '10.77.0.1';
    const student = '10.77.0.2';
    // Every place taken: what follows waits in the queue.
    const holders = Array.from({ length: concurrency }, holder);
    assert.equal(passwordGate.queued(), 0);

    // The storm's address: four wrong logins (unknown usernames) waiting.
    const sc = apiClient(t.app, { ip: storm });
    const stormFlows = await Promise.all(Array.from({ length: 4 }, () => sc.start('login')));
    const finished: string[] = [];
    const stormLogins = stormFlows.map((f, i) =>
      sc.submit('login', f.body.id, { username: `ghost${i}`, password: 'Wrong-Pw1' }).then((r) => {
        finished.push(`storm${i}`);
        return r;
      }),
    );
    await until(() => passwordGate.queued(`ip:${storm}`) === 4, 'the storm has four logins waiting');
    // The student arrives last.
    const cc = apiClient(t.app, { ip: student });
    const f = await cc.start('login');
    const studentLogin = cc.submit('login', f.body.id, { username: 'student1', password: 'Corretta-Pw1' }).then((r) => {
      finished.push('student');
      return r;
    });
    await until(() => passwordGate.queued(`ip:${student}`) === 1, 'the student waits');
    // A hash that will hold the place after its turn, so the rest of the storm cannot run on.
    const last = holder();
    assert.equal(passwordGate.queued(), 6);

    // One place frees up: the storm's first login, then the student's.
    holders[0]!.release();
    const ok = await studentLogin;
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.state, 'completed');
    assert.equal(passwordGate.queued(`ip:${storm}`), 3, 'three of the storm still waiting when the student is in');
    // At most the storm login whose hash ran first can have been answered before.
    assert.ok(finished.indexOf('student') <= 1, finished.join(','));

    // Then the storm drains, each login answered as usual.
    for (const h of [...holders.slice(1), last]) h.release();
    const answers = await Promise.all(stormLogins);
    for (const a of answers) assert.equal(a.body.error.code, 'auth.invalid_credentials');
    await Promise.all([...holders, last].map((h) => h.done));
    // Released together, the rest of the storm may finish in any order, but all after the student.
    assert.equal(finished.length, 5);
    assert.ok(finished.indexOf('student') <= 1, finished.join(','));
    assert.equal(passwordGate.queued(), 0);
  });

  it('a login refused because the queue is full counts as no attempt', async () => {
    const holders = Array.from({ length: concurrency }, holder);
    // 256 addresses with one hash waiting each: no one has more to give way.
    const waiting: Array<{ done: Promise<void>; release: () => void }> = [];
    for (let i = 0; i < 256; i++) {
      let release!: () => void;
      const done = passwordGate.run(() => new Promise<void>((r) => (release = r)), `test:fill${i}`).catch(() => undefined);
      waiting.push({ done, release: () => release?.() });
    }
    assert.equal(passwordGate.queued(), 256);
    const c = apiClient(t.app, { ip: '10.78.0.1' });
    const f = await c.start('login');
    const r = await c.submit('login', f.body.id, { username: 'student1', password: 'Wrong-Pw1' });
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'server.busy');
    const counts = await t.ctx.db.kysely.selectFrom('login_throttle').select(['key', 'failures']).where('key', 'in', ['user:student1', 'ip:10.78.0.1']).execute();
    assert.ok(counts.every((row) => row.failures === 0), JSON.stringify(counts));
    for (const h of holders) h.release();
    for (let i = 0; i < 256 + concurrency; i++) {
      await new Promise((res) => setImmediate(res));
      for (const w of waiting) w.release();
    }
    await Promise.all([...holders.map((h) => h.done), ...waiting.map((w) => w.done)]);
    assert.equal(passwordGate.queued(), 0);
  });
});
