import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a 96-bit random nonce: `v1.<nonce>.<ciphertext>.<tag>` (base64url). Used for
 * what Tessera must read back in clear but not show: the OpenID provider's signing keys and client
 * secrets (a copy of the database without TESSERA_SECRET reveals neither), and a form's values kept
 * in a browser cookie. `aad` binds a value to its place (a sealed value moved to another row or
 * flow does not open).
 */
export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
}

/** Opens a value sealed by `seal`; throws when the key, the row or the bytes are not the same. */
export function unseal(key: Buffer, sealed: string, aad: string): string {
  const [v, iv, ct, tag] = sealed.split('.');
  if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('sealed value: unknown format');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
}
