import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { AppError } from '../../src/errors/app-error.js';
import { HashGate, hashPassword, hashScheme, verifyPassword } from '../../src/auth/passwords.js';
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

  it('queues hashes beyond its concurrency and refuses past the queue bound (server.busy)', async () => {
    const gate = new HashGate(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const second = gate.run(async () => 'second');
    await assert.rejects(gate.run(async () => 'third'), (e: AppError) => e.code === 'server.busy');
    release();
    await first;
    assert.equal(await second, 'second');
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
