import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { Database } from '../db/schema.js';
import { randomId } from '../app/secret.js';
import { seal, unseal } from '../app/seal.js';

/** The signing algorithms Tessera publishes: one key of each is current at any time. */
export const signingAlgs = ['RS256', 'ES256'] as const;
type Alg = (typeof signingAlgs)[number];

/**
 * How long a replaced key stays published in the JWKS: long enough for every ID token and
 * JWT signed with it to have been verified (they live minutes to hours).
 */
export const KEY_OVERLAP_MS = 7 * 24 * 3_600_000;

const keyOf = (ctx: AppContext) => ctx.secrets.key('oidc-keys');

function generate(alg: Alg): JsonWebKey {
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey.export({ format: 'jwk' });
}

async function insertKey(ctx: AppContext, db: Kysely<Database>, alg: Alg, at: string): Promise<string> {
  const kid = randomId(12);
  const jwk = { ...generate(alg), kid, alg, use: 'sig' };
  await db
    .insertInto('oidc_keys')
    .values({ kid, alg, sealed_jwk: seal(keyOf(ctx), JSON.stringify(jwk), `oidc-key:${kid}`), created_at: at, retired_at: null })
    .execute();
  return kid;
}

/**
 * The private JWKs the provider signs with (current keys first) and publishes (current and those
 * retired within the overlap). Generates the missing current keys on first start; two instances
 * starting together may both generate one: both are published, the same one signs everywhere.
 */
export async function loadSigningKeys(ctx: AppContext): Promise<JsonWebKey[]> {
  const now = ctx.clock.now();
  let rows = await ctx.db.kysely.selectFrom('oidc_keys').selectAll().orderBy('created_at', 'desc').execute();
  const missing = signingAlgs.filter((alg) => !rows.some((r) => r.alg === alg && r.retired_at === null));
  if (missing.length) {
    for (const alg of missing) await insertKey(ctx, ctx.db.kysely, alg, now.toISOString());
    rows = await ctx.db.kysely.selectFrom('oidc_keys').selectAll().orderBy('created_at', 'desc').execute();
  }
  const since = new Date(now.getTime() - KEY_OVERLAP_MS).toISOString();
  // The oldest current key of each algorithm signs (by creation, then id), so that instances
  // which generated keys at the same first start all sign with the same one.
  const current = rows.filter((r) => r.retired_at === null).sort((a, b) => (a.created_at === b.created_at ? (a.kid < b.kid ? -1 : 1) : a.created_at < b.created_at ? -1 : 1));
  const previous = rows.filter((r) => r.retired_at !== null && r.retired_at > since);
  return [...current, ...previous].map((r) => JSON.parse(unseal(keyOf(ctx), r.sealed_jwk, `oidc-key:${r.kid}`)) as JsonWebKey);
}

/**
 * Replaces the current signing keys with new ones. The old keys stay published for
 * KEY_OVERLAP_MS; keys retired before that are deleted. Instances pick the new keys up within a
 * minute (provider.ts reloads them). Returns the new and retired key ids.
 */
export async function rotateSigningKeys(ctx: AppContext): Promise<{ created: string[]; retired: string[] }> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.kysely.transaction().execute(async (tx) => {
    const old = await tx.selectFrom('oidc_keys').select('kid').where('retired_at', 'is', null).execute();
    await tx.updateTable('oidc_keys').set({ retired_at: at }).where('retired_at', 'is', null).execute();
    await tx.deleteFrom('oidc_keys').where('retired_at', '<', new Date(now.getTime() - KEY_OVERLAP_MS).toISOString()).execute();
    const created: string[] = [];
    for (const alg of signingAlgs) created.push(await insertKey(ctx, tx, alg, at));
    return { created, retired: old.map((r) => r.kid) };
  });
}

/** A fingerprint of the key set, to notice a rotation done by another process. */
export async function keySetVersion(ctx: AppContext): Promise<string> {
  const rows = await ctx.db.kysely.selectFrom('oidc_keys').select(['kid', 'retired_at']).orderBy('kid').execute();
  return rows.map((r) => `${r.kid}:${r.retired_at ?? ''}`).join(',');
}
