import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Keys derived from TESSERA_SECRET, one per purpose (cookies, one-time codes, …), so that no
 * two uses share a key. In development the secret is generated once and kept under the data dir.
 */
export class Secrets {
  private readonly cache = new Map<string, Buffer>();
  constructor(private readonly master: string) {}

  key(purpose: string): Buffer {
    let k = this.cache.get(purpose);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', this.master, 'tessera', purpose, 32));
      this.cache.set(purpose, k);
    }
    return k;
  }

  /** Keyed hash of a value (one-time codes, tokens): base64url HMAC-SHA-256. */
  hmac(purpose: string, value: string): string {
    return createHmac('sha256', this.key(purpose)).update(value).digest('base64url');
  }

  hmacEquals(purpose: string, value: string, expected: string): boolean {
    const a = Buffer.from(this.hmac(purpose, value));
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

export function loadOrCreateSecret(given: string | undefined, dataDir: string): string {
  if (given) return given;
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const s = randomBytes(32).toString('base64url');
  writeFileSync(file, `${s}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return s;
}

/** An unguessable identifier: 144 random bits, URL-safe. */
export const randomId = (bytes = 18): string => randomBytes(bytes).toString('base64url');
