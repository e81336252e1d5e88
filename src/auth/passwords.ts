import { createHash, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Algorithm, hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { AppError } from '../errors/app-error.js';

/** OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1. */
export const argon2Options = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Hash formats accepted from the registrar for initial (legacy) passwords. */
export type HashScheme = 'argon2' | 'bcrypt' | 'ssha';

export function hashScheme(stored: string): HashScheme | null {
  if (/^(\{ARGON2\})?\$argon2(id|i|d)\$/.test(stored)) return 'argon2';
  if (/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(stored)) return 'bcrypt';
  if (/^\{SSHA\}[A-Za-z0-9+/]+=*$/i.test(stored)) return 'ssha';
  return null;
}

/**
 * Caps concurrent password hashes so that a login storm queues (and past a bound, is refused with
 * `server.busy`) instead of starving every other request of CPU.
 */
export class HashGate {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  constructor(
    private readonly concurrency: number,
    private readonly maxQueue: number,
  ) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.queue.length >= this.maxQueue) throw new AppError('server.busy', { headers: { 'retry-after': '2' } });
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

// As many hashes at once as there are cores (at most libuv's 4 worker threads): an argon2id hash
// keeps a core and 19 MiB busy, and more at once than cores only time-slice, each evicting the
// others' memory from the caches, so every hash costs more CPU and none finishes sooner.
const gate = new HashGate(Math.max(1, Math.min(4, availableParallelism())), 256);

/** argon2id with the OWASP parameters. */
export function hashPassword(password: string): Promise<string> {
  return gate.run(() => argonHash(password, argon2Options));
}

// A real hash of a random string: verifying against it costs what a real verification costs, so
// unknown usernames take as long as known ones.
let dummyHash: Promise<string> | undefined;
export function verifyDummy(password: string): Promise<false> {
  dummyHash ??= argonHash(`dummy-${Math.random()}`, argon2Options);
  return dummyHash.then((h) => gate.run(() => argonVerify(h, password))).then(() => false);
}

/**
 * Verifies a password against a stored hash in any accepted scheme. `rehash` is true when the
 * stored hash is not argon2id with the current parameters, so the caller replaces it.
 */
export async function verifyPassword(stored: string, password: string): Promise<{ ok: boolean; rehash: boolean }> {
  const scheme = hashScheme(stored);
  if (scheme === 'argon2') {
    const encoded = stored.replace(/^\{ARGON2\}/, '');
    const ok = await gate.run(() => argonVerify(encoded, password));
    const current = encoded.startsWith(`$argon2id$v=19$m=${argon2Options.memoryCost},t=${argon2Options.timeCost},p=${argon2Options.parallelism}$`);
    return { ok, rehash: ok && !current };
  }
  if (scheme === 'bcrypt') {
    const ok = await gate.run(() => bcrypt.compare(password, stored));
    return { ok, rehash: ok };
  }
  if (scheme === 'ssha') {
    const raw = Buffer.from(stored.slice(6), 'base64');
    if (raw.length <= 20) return { ok: false, rehash: false };
    const digest = raw.subarray(0, 20);
    const salt = raw.subarray(20);
    const candidate = createHash('sha1').update(password, 'utf8').update(salt).digest();
    const ok = timingSafeEqual(candidate, digest);
    return { ok, rehash: ok };
  }
  await verifyDummy(password);
  return { ok: false, rehash: false };
}
