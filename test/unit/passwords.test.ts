import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { AppError } from '../../src/errors/app-error.js';
import { HashGate, hashPassword, hashScheme, passwordGate, verifyPassword } from '../../src/auth/passwords.js';
import { addressKey } from '../../src/auth/throttle.js';
import { checkPasswordPolicy } from '../../src/domain/password-policy.js';
import { foldName, firstFree, renderPattern } from '../../src/domain/address-pattern.js';
import { statusForRegistrar, canTransition } from '../../src/domain/account-status.js';

describe('password hashes', () => {
  it('hashes with argon2id and the OWASP parameters', async () => {
    const h = await hashPassword('Segreta-1');
    assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(await verifyPassword(h, 'Segreta-1'), { ok: true, rehash: false });
    assert.deepEqual(await verifyPassword(h, 'segreta-1'), { ok: false, rehash: false });
  });

  it('verifies enrolment hashes (argon2i, bcrypt, {SSHA}, {ARGON2}) and asks for a re-hash', async () => {
    const argon2i = await hash('Enrol-1', { algorithm: 0, memoryCost: 4096, timeCost: 3 });
    const salt = Buffer.from('12345678');
    const ssha = `{SSHA}${Buffer.concat([createHash('sha1').update('Enrol-1').update(salt).digest(), salt]).toString('base64')}`;
    for (const stored of [argon2i, `{ARGON2}${argon2i}`, bcrypt.hashSync('Enrol-1', 4), ssha]) {
      assert.ok(hashScheme(stored), stored);
      assert.deepEqual(await verifyPassword(stored, 'Enrol-1'), { ok: true, rehash: true }, stored);
      assert.equal((await verifyPassword(stored, 'Enrol-2')).ok, false, stored);
    }
    assert.equal(hashScheme('plaintext'), null);
    assert.equal(hashScheme('{MD5}abc'), null);
    assert.equal((await verifyPassword('plaintext', 'plaintext')).ok, false);
  });

  it('refuses a password against a {SSHA} hash only after an argon2id verification, as for no account at all', async () => {
    // A salted SHA-1 is checked in microseconds, an unknown username costs an argon2id
    // verification: without the same work, response times tell which usernames were imported
    // with a legacy hash. Seen through the hash queue, not the clock: with every hashing place
    // held, a refusal that verifies with argon2id waits there for its turn.
    const salt = Buffer.from('12345678');
    const ssha = `{SSHA}${Buffer.concat([createHash('sha1').update('Enrol-1').update(salt).digest(), salt]).toString('base64')}`;
    const waitsForArgon2 = async (stored: string, client: string): Promise<boolean> => {
      const releases: Array<() => void> = [];
      const holders = Array.from({ length: 4 }, () => passwordGate.run(() => new Promise<void>((r) => releases.push(r)), 'holder'));
      let settled = false;
      const refusal = verifyPassword(stored, 'Wrong-1', client).finally(() => (settled = true));
      // The dummy hash is made once, outside the queue; then the verification queues.
      for (let i = 0; i < 400 && !settled && passwordGate.queued(addressKey(client)) === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const queued = passwordGate.queued(addressKey(client)) === 1;
      // Let everything through: the holders finish one by one as their turns come.
      const drain = setInterval(() => releases.splice(0).forEach((r) => r()), 1);
      assert.deepEqual(await refusal, { ok: false, rehash: false });
      await Promise.all(holders);
      clearInterval(drain);
      return queued;
    };
    assert.equal(await waitsForArgon2('unknown-scheme', '192.0.2.1'), true, 'no account');
    assert.equal(await waitsForArgon2(ssha, '192.0.2.2'), true, '{SSHA}');
  });

  it('queues hashes beyond its concurrency and refuses past the queue bound (server.busy)', async () => {
    const gate = new HashGate({ concurrency: 1, perKey: 4, total: 1 });
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const second = gate.run(async () => 'second');
    await assert.rejects(gate.run(async () => 'third'), (e: AppError) => e.code === 'server.busy');
    release();
    await first;
    assert.equal(await second, 'second');
  });
});

/**
 * A gate driven by hand: every task is a promise the test resolves, and `started` records the
 * order in which tasks were let through.
 */
function handGate(limits: { concurrency: number; perKey: number; total: number }) {
  const gate = new HashGate(limits);
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const outcomes = new Map<string, Promise<string>>();
  const finished = new Set<string>();
  return {
    gate,
    started,
    finished,
    submit(name: string, key: string | null) {
      const p = gate.run(
        () =>
          new Promise<string>((resolve) => {
            started.push(name);
            finish.set(name, () => resolve(name));
          }),
        key,
      );
      outcomes.set(name, p);
      return p;
    },
    /** Resolves a running task and lets the gate hand its place over. */
    async finish(name: string) {
      const f = finish.get(name);
      assert.ok(f && !finished.has(name), `${name} is running`);
      finished.add(name);
      f();
      await outcomes.get(name);
      await new Promise((r) => setImmediate(r));
    },
  };
}

const isBusy = (e: AppError) => e.code === 'server.busy' && e.opts.headers?.['retry-after'] === '2';

/** A refusal comes at once: a hash that would wait instead fails the assertion, without hanging. */
async function assertRefused(p: Promise<unknown>) {
  const waiting = new Promise((r) => setImmediate(() => r('waiting')));
  await assert.rejects(Promise.race([p, waiting.then((w) => assert.fail(`not refused but ${w}`))]), (e: AppError) => isBusy(e));
}

describe('hash gate: fair queue per client key', () => {
  it('serves waiting keys in turn, each key in its own arrival order', async () => {
    const h = handGate({ concurrency: 1, perKey: 4, total: 256 });
    void h.submit('hold', 'z');
    for (let i = 1; i <= 4; i++) void h.submit(`a${i}`, 'ip:a');
    for (let i = 1; i <= 3; i++) void h.submit(`b${i}`, 'ip:b');
    void h.submit('c1', 'ip:c');
    assert.deepEqual([h.gate.queued('ip:a'), h.gate.queued('ip:b'), h.gate.queued('ip:c'), h.gate.queued()], [4, 3, 1, 8]);
    await h.finish('hold');
    for (const next of ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'b3', 'a4']) await h.finish(next);
    assert.deepEqual(h.started, ['hold', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'b3', 'a4']);
    assert.equal(h.gate.queued(), 0);
  });

  it('lets a newcomer in after one hash from each waiting key, not after all of them', async () => {
    const h = handGate({ concurrency: 2, perKey: 4, total: 256 });
    void h.submit('hold1', null);
    void h.submit('hold2', null);
    // Forty addresses with four waiting each, then one more address.
    for (let a = 0; a < 40; a++) for (let i = 0; i < 4; i++) void h.submit(`x${a}.${i}`, `ip:x${a}`);
    void h.submit('student', 'ip:s');
    assert.equal(h.gate.queued(), 161);
    await h.finish('hold1');
    await h.finish('hold2');
    while (!h.started.includes('student')) await h.finish(h.started.find((n) => !h.finished.has(n))!);
    // Before the student: the two holders and the first hash of each of the forty addresses.
    assert.equal(h.started.indexOf('student'), 2 + 40);
    assert.ok(h.started.slice(2, 42).every((n) => n.endsWith('.0')));
  });

  it('refuses only the key over its cap, with Retry-After, and queues others', async () => {
    const h = handGate({ concurrency: 1, perKey: 2, total: 256 });
    void h.submit('hold', null);
    void h.submit('a1', 'ip:a');
    void h.submit('a2', 'ip:a');
    await assertRefused(h.gate.run(async () => 'a3', 'ip:a'));
    void h.submit('b1', 'ip:b');
    void h.submit('b2', 'ip:b');
    assert.equal(h.gate.queued('ip:a'), 2);
    assert.equal(h.gate.queued('ip:b'), 2);
    // Once one of its hashes has had its turn, the key may queue again.
    await h.finish('hold');
    void h.submit('a3', 'ip:a');
    for (const next of ['a1', 'b1', 'a2', 'b2', 'a3']) await h.finish(next);
    assert.deepEqual(h.started, ['hold', 'a1', 'b1', 'a2', 'b2', 'a3']);
  });

  it('hashes without a client key share one key and its cap', async () => {
    const h = handGate({ concurrency: 1, perKey: 1, total: 256 });
    void h.submit('hold', 'ip:h');
    void h.submit('job1', null);
    await assertRefused(h.gate.run(async () => 'job2'));
    void h.submit('a1', 'ip:a');
    assert.equal(h.gate.queued(null), 1);
    await h.finish('hold');
    await h.finish('job1');
    await h.finish('a1');
    assert.deepEqual(h.started, ['hold', 'job1', 'a1']);
  });

  it('refuses anyone past the global bound when every key waits alike', async () => {
    const h = handGate({ concurrency: 1, perKey: 2, total: 3 });
    void h.submit('hold', null);
    void h.submit('a1', 'ip:a');
    void h.submit('b1', 'ip:b');
    void h.submit('c1', 'ip:c');
    // Three wait in all, one per key: a fourth key has no one to give way to it.
    await assertRefused(h.gate.run(async () => 'd1', 'ip:d'));
    await assertRefused(h.gate.run(async () => 'b2', 'ip:b'));
    await h.finish('hold');
    void h.submit('d1', 'ip:d');
    for (const next of ['a1', 'b1', 'c1', 'd1']) await h.finish(next);
    assert.deepEqual(h.started, ['hold', 'a1', 'b1', 'c1', 'd1']);
  });

  it('when the queue is full, the key with the most waiting gives way to a newcomer', async () => {
    const h = handGate({ concurrency: 1, perKey: 10, total: 4 });
    void h.submit('hold', null);
    const storm = ['s1', 's2', 's3'].map((n) => h.submit(n, 'ip:s'));
    void h.submit('a1', 'ip:a');
    // Full: the storm's newest is refused, the student gets in.
    void h.submit('student', 'ip:t');
    await assertRefused(storm[2]!);
    assert.deepEqual([h.gate.queued('ip:s'), h.gate.queued('ip:t'), h.gate.queued()], [2, 1, 4]);
    await h.finish('hold');
    for (const next of ['s1', 'a1', 'student', 's2']) await h.finish(next);
    assert.deepEqual(h.started, ['hold', 's1', 'a1', 'student', 's2']);
  });

  it('keeps the number of hashes at once at its concurrency, even when one fails', async () => {
    const gate = new HashGate({ concurrency: 2, perKey: 4, total: 256 });
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      if (i % 3 === 0) throw new Error('hash failed');
      return 'ok';
    };
    // Six from one address (two run, four wait), then four from another.
    const all = Array.from({ length: 10 }, (_, i) => gate.run(task(i), i < 6 ? 'ip:a' : 'ip:b').catch((e: Error) => e.message));
    assert.deepEqual(await Promise.all(all), Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? 'hash failed' : 'ok')));
    assert.deepEqual(started, [0, 1, 2, 6, 3, 7, 4, 8, 5, 9]);
    assert.equal(most, 2);
    assert.equal(gate.queued(), 0);
    // A newcomer after the storm runs at once.
    assert.equal(await gate.run(async () => 'late', 'ip:c'), 'late');
  });
});

describe('password policy', () => {
  const policy = { minLength: 8, maxLength: 256, requireUppercase: true, requireLowercase: false, requireDigit: true, requireSymbol: false, blockCommon: true, forbidUsername: true };
  const isCommon = (w: string) => ['password1', 'qwerty123', 'juventus'].includes(w);
  const cases: Array<[string, string | undefined, string[]]> = [
    ['Abcdefg1', undefined, []],
    ['Abcdef1', undefined, ['too_short']],
    ['abcdefgh1', undefined, ['uppercase']],
    ['Abcdefghi', undefined, ['digit']],
    ['Password1', undefined, ['common']],
    ['Juventus2026!', undefined, ['common']],
    ['Xmario.rossi9', 'mario.rossi', ['username']],
    ['ÀÈÌÒÙàèìòù1', undefined, []],
  ];
  for (const [pw, user, expected] of cases) {
    it(`${pw} → ${expected.join(',') || 'ok'}`, () => {
      assert.deepEqual(checkPasswordPolicy(pw, policy, { username: user, isCommon }), expected);
    });
  }
});

describe('addresses and lifecycle', () => {
  it('folds names and resolves collisions', async () => {
    assert.equal(foldName("D'Àngelo"), 'dangelo');
    assert.equal(foldName('Nicolò  De Sanctis'), 'nicolodesanctis');
    assert.equal(renderPattern('{given}.{family}@{domain}', { externalId: 'X', givenName: 'Maria Grazia', familyName: "Dell'Orto", domain: 'Uni.IT' }), 'maria.dellorto@uni.it');
    const taken = new Set(['mario.rossi@uni.it', 'mario.rossi2@uni.it']);
    assert.equal(await firstFree('mario.rossi@uni.it', async (c) => taken.has(c)), 'mario.rossi3@uni.it');
  });

  it('maps registrar statuses to account transitions', () => {
    assert.equal(statusForRegistrar(null, 'provisional'), 'provisional');
    assert.equal(statusForRegistrar('provisional', 'enrolled'), 'pending_activation');
    assert.equal(statusForRegistrar('active', 'enrolled'), null);
    assert.equal(statusForRegistrar('active', 'ceased'), 'suspended');
    assert.equal(statusForRegistrar('pending_activation', 'ceased'), 'expired');
    assert.equal(statusForRegistrar('active', 'provisional'), null);
    assert.ok(canTransition('pending_activation', 'active'));
    assert.ok(!canTransition('purged', 'active'));
    assert.ok(!canTransition('provisional', 'active'));
  });
});
