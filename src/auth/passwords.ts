import { createHash, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Algorithm, hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { AppError } from '../errors/app-error.js';
import { addressKey } from './throttle.js';

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
 * Caps concurrent password hashes so that a login storm queues instead of starving every other
 * request of CPU, and shares the queue fairly between clients. Waiting hashes queue per client key
 * (the client address; hashes without one, from the command line or jobs, share one key), each key
 * in its own arrival order, and the keys take turns: one hash from each waiting key in turn. A
 * client sending many requests, or many addresses each sending many, therefore delay a newcomer by
 * about one hash per waiting key, never by all their requests. A key with `perKey` hashes already
 * waiting is refused with `server.busy`, and only that key. When `total` hashes wait in all, the
 * key with the most waiting gives way: its newest hash is refused so that a key with fewer gets in
 * (a storm from many addresses cannot shut out a newcomer); only when no key has more waiting than
 * the newcomer's is the newcomer refused.
 */
export class HashGate {
  private running = 0;
  private waiting = 0;
  // Keys with waiting hashes, in turn order (a Map keeps insertion order): a key served moves to
  // the back, a key with none left leaves, a new key joins at the back.
  private readonly queues = new Map<string, Array<{ go: () => void; refuse: (e: AppError) => void }>>();
  constructor(private readonly limits: { concurrency: number; perKey: number; total: number }) {}

  /** Hashes waiting for a turn: for one client key, or in all. */
  queued(key?: string | null): number {
    return key === undefined ? this.waiting : (this.queues.get(key ?? '')?.length ?? 0);
  }

  async run<T>(fn: () => Promise<T>, key?: string | null): Promise<T> {
    if (this.running < this.limits.concurrency) {
      this.running++;
    } else {
      const k = key ?? '';
      const queue = this.queues.get(k) ?? [];
      if (queue.length >= this.limits.perKey) throw busy();
      if (this.waiting >= this.limits.total && !this.makeRoomFor(queue.length)) throw busy();
      // The finishing hash hands its place over (`running` stays as it is), so a newcomer cannot
      // slip in between and no one waits longer than their turn.
      await new Promise<void>((go, refuse) => {
        queue.push({ go, refuse });
        this.waiting++;
        if (queue.length === 1) this.queues.set(k, queue);
      });
    }
    try {
      return await fn();
    } finally {
      this.handOver();
    }
  }

  /** The full queue: the key with the most waiting, if it has more than `own`, refuses its newest. */
  private makeRoomFor(own: number): boolean {
    let heaviest: [string, Array<{ refuse: (e: AppError) => void }>] | undefined;
    for (const entry of this.queues) if (!heaviest || entry[1].length > heaviest[1].length) heaviest = entry;
    if (!heaviest || heaviest[1].length <= own + 1) return false;
    heaviest[1].pop()!.refuse(busy());
    this.waiting--;
    return true;
  }

  private handOver(): void {
    for (const [key, queue] of this.queues) {
      const next = queue.shift()!;
      this.waiting--;
      this.queues.delete(key);
      if (queue.length) this.queues.set(key, queue);
      next.go();
      return;
    }
    this.running--;
  }
}

// As many hashes at once as there are cores (at most libuv's 4 worker threads): an argon2id hash
// keeps a core and 19 MiB busy, and more at once than cores only time-slice, each evicting the
// others' memory from the caches, so every hash costs more CPU and none finishes sooner.
// One client key may have 64 hashes waiting (a campus behind one NAT address signs in at once);
// with 256 waiting in all, the busiest keys give way to the others.
export const passwordGate = new HashGate({ concurrency: Math.max(1, Math.min(4, availableParallelism())), perKey: 64, total: 256 });

const busy = () => new AppError('server.busy', { headers: { 'retry-after': '2' } });

/** The queue key of a client address: the same as its login counters' (an IPv6 /64 is one client). */
const queueKey = (client: string | null): string | null => (client ? addressKey(client) : null);

/**
 * argon2id with the OWASP parameters. `client` is the client key for the hash queue: the
 * request's client address, or null outside a request.
 */
export function hashPassword(password: string, client: string | null = null): Promise<string> {
  return passwordGate.run(() => argonHash(password, argon2Options), queueKey(client));
}

// A real hash of a random string: verifying against it costs what a real verification costs, and
// it waits in the same queue under the same client key, so unknown usernames take as long as known
// ones.
let dummyHash: Promise<string> | undefined;
export function verifyDummy(password: string, client: string | null = null): Promise<false> {
  dummyHash ??= argonHash(`dummy-${Math.random()}`, argon2Options);
  return dummyHash.then((h) => passwordGate.run(() => argonVerify(h, password), queueKey(client))).then(() => false);
}

/**
 * Verifies a password against a stored hash in any accepted scheme. `rehash` is true when the
 * stored hash is not argon2id with the current parameters, so the caller replaces it. `client` is
 * the client key for the hash queue, as for `hashPassword`.
 */
export async function verifyPassword(stored: string, password: string, client: string | null = null): Promise<{ ok: boolean; rehash: boolean }> {
  const scheme = hashScheme(stored);
  if (scheme === 'argon2') {
    const encoded = stored.replace(/^\{ARGON2\}/, '');
    const ok = await passwordGate.run(() => argonVerify(encoded, password), queueKey(client));
    const current = encoded.startsWith(`$argon2id$v=19$m=${argon2Options.memoryCost},t=${argon2Options.timeCost},p=${argon2Options.parallelism}$`);
    return { ok, rehash: ok && !current };
  }
  if (scheme === 'bcrypt') {
    const ok = await passwordGate.run(() => bcrypt.compare(password, stored), queueKey(client));
    return { ok, rehash: ok };
  }
  if (scheme === 'ssha') {
    // A salted SHA-1 takes microseconds: the dummy verification gives it the cost of an unknown
    // username's, so response times do not tell which accounts hold such a hash.
    await verifyDummy(password, client);
    const raw = Buffer.from(stored.slice(6), 'base64');
    if (raw.length <= 20) return { ok: false, rehash: false };
    const digest = raw.subarray(0, 20);
    const salt = raw.subarray(20);
    const candidate = createHash('sha1').update(password, 'utf8').update(salt).digest();
    const ok = timingSafeEqual(candidate, digest);
    return { ok, rehash: ok };
  }
  await verifyDummy(password, client);
  return { ok: false, rehash: false };
}
