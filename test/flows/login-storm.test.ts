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

// A campus signs in from behind one address: at the start of an exam dozens of students sign in at
// the same minute, every password right. Their attempts filled the address's window while waiting
// for their hashes, and the one that found it full locked the address for 15 minutes: everyone
// behind it was told "too many failed attempts" though no password was wrong.
describe('login storm: many right passwords at once from one address', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.login.maxFailuresPerAddress = 5;
      }),
    });
    const { hashPassword } = await import('../../src/auth/passwords.js');
    const passwordHash = await hashPassword('Corretta-Pw1');
    for (let i = 0; i < 9; i++) await seedAccount(t.ctx, { externalId: `crowd${i}`, status: 'active', passwordHash });
  });
  after(() => t.close());

  it('locks no one: those beyond the address’s places are asked to retry in a moment, and then sign in', async () => {
    const ip = '10.88.0.1';
    const holders = Array.from({ length: concurrency }, holder);
    const c = apiClient(t.app, { ip, lang: 'it' });
    const flows = await Promise.all(Array.from({ length: 8 }, () => c.start('login')));
    let answered = 0;
    const answers = Promise.all(
      flows.map((f, i) =>
        c.submit('login', f.body.id, { username: `crowd${i}`, password: 'Corretta-Pw1' }).then((r) => {
          answered++;
          return r;
        }),
      ),
    );
    // Every place of the address taken by an attempt waiting for its hash; the others answered.
    await until(() => passwordGate.queued(`ip:${ip}`) === 5 && answered === 3, 'five sign-ins wait for their hashes, three are answered');
    for (const h of holders) h.release();
    const all = await answers;
    await Promise.all(holders.map((h) => h.done));
    assert.equal(all.filter((a) => a.status === 200).length, 5);
    const waiting = all.filter((a) => a.status !== 200);
    assert.equal(waiting.length, 3);
    for (const w of waiting) {
      assert.equal(w.status, 429);
      assert.equal(w.body.error.code, 'auth.rate_limited');
      assert.equal(w.body.error.message, 'Troppe richieste. Attendi un momento e riprova.');
      assert.equal(w.res.headers['retry-after'], '2');
      assert.equal(w.body.state, 'awaiting_credentials');
    }
    // Nothing counted, nothing locked: the three sign in now, and so does someone else.
    const counter = await t.ctx.db.kysely.selectFrom('login_throttle').select(['failures', 'locked_until']).where('key', '=', `ip:${ip}`).executeTakeFirst();
    assert.equal(counter?.failures ?? 0, 0);
    assert.equal(counter?.locked_until ?? null, null);
    for (const w of waiting) {
      const again = await c.submit('login', w.body.id, { username: `crowd${flows.findIndex((f) => f.body.id === w.body.id)}`, password: 'Corretta-Pw1' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
    }
    const f = await c.start('login');
    assert.equal((await c.submit('login', f.body.id, { username: 'crowd8', password: 'Corretta-Pw1' })).status, 200);
    const locks = await t.ctx.db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'login.locked').execute();
    assert.deepEqual(locks, []);
  });

  it('the same account sent many times at once: the refusals cost the address nothing', async () => {
    const ip = '10.88.0.3';
    const holders = Array.from({ length: concurrency }, holder);
    const c = apiClient(t.app, { ip });
    const flows = await Promise.all(Array.from({ length: 12 }, () => c.start('login')));
    let refused = 0;
    const answers = Promise.all(
      flows.map(async (f, i) => {
        // The first five wait for their hashes before the others are sent.
        if (i >= 5) await until(() => passwordGate.queued(`ip:${ip}`) === 5, 'five wait');
        const r = await c.submit('login', f.body.id, { username: 'crowd7', password: 'Corretta-Pw1' });
        if (i >= 5) refused++;
        return r;
      }),
    );
    await until(() => refused === 7, 'the seven sent after are answered');
    for (const h of holders) h.release();
    await Promise.all(holders.map((h) => h.done));
    assert.equal((await answers).filter((a) => a.status === 200).length, 5);
    // Someone else behind the address signs in at once.
    const f = await c.start('login');
    const r = await c.submit('login', f.body.id, { username: 'crowd6', password: 'Corretta-Pw1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  it('failures still lock the address once they fill its window', async () => {
    const ip = '10.88.0.2';
    const c = apiClient(t.app, { ip });
    for (let i = 0; i < 5; i++) {
      const f = await c.start('login');
      assert.equal((await c.submit('login', f.body.id, { username: `crowd${i}`, password: 'Sbagliata-Pw1' })).body.error.code, 'auth.invalid_credentials');
    }
    const f = await c.start('login');
    const r = await c.submit('login', f.body.id, { username: 'crowd8', password: 'Corretta-Pw1' });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'auth.account_locked');
  });
});
