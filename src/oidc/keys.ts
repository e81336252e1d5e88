import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { Database } from '../db/schema.js';
import { randomId } from '../app/secret.js';
import { seal, unseal } from '../app/seal.js';
import { lockKeys } from '../db/lock-key.js';

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

/**
 * How long a rotation's new keys are published before they sign: longer than an instance may
 * keep its key set without checking (provider.ts checks at most a minute apart, before it
 * answers), so every instance publishes a key before any signs with it.
 */
export const KEY_PUBLISH_MS = 3 * 60_000;

async function insertKey(ctx: AppContext, db: Kysely<Database>, alg: Alg, at: string, signsFrom: string | null): Promise<string> {
  const kid = randomId(12);
  const jwk = { ...generate(alg), kid, alg, use: 'sig' };
  await db
    .insertInto('oidc_keys')
    .values({ kid, alg, sealed_jwk: seal(keyOf(ctx), JSON.stringify(jwk), `oidc-key:${kid}`), created_at: at, retired_at: null, signs_from: signsFrom })
    .execute();
  return kid;
}

type KeyRow = { kid: string; alg: string; created_at: string; retired_at: string | null; signs_from: string | null };
/** The key signs at `at`: it has begun to, and not yet stopped. */
const signsAt = (r: KeyRow, at: string) => (r.signs_from === null || r.signs_from <= at) && (r.retired_at === null || r.retired_at > at);
/** The key signs at `at` or will (a rotation's new key): an algorithm with one needs no new key. */
const liveAt = (r: KeyRow, at: string) => r.retired_at === null || r.retired_at > at;

/**
 * The private JWKs the provider signs with (those signing now first, the oldest of each algorithm
 * ahead) and publishes (also a rotation's keys not yet signing, and keys retired within the
 * overlap). Generates the missing keys on first start, under a lock with the key set read again
 * inside it: instances starting together end up with one key set.
 */
export async function loadSigningKeys(ctx: AppContext): Promise<JsonWebKey[]> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const read = (db: Kysely<Database>) => db.selectFrom('oidc_keys').selectAll().orderBy('created_at', 'desc').execute();
  let rows = await read(ctx.db.kysely);
  if (signingAlgs.some((alg) => !rows.some((r) => r.alg === alg && liveAt(r, at)))) {
    rows = await ctx.db.kysely.transaction().execute(async (tx) => {
      await lockKeys(tx, ctx.db.dialect, ['oidc-keys']);
      const again = await read(tx);
      for (const alg of signingAlgs) if (!again.some((r) => r.alg === alg && liveAt(r, at))) await insertKey(ctx, tx, alg, at, null);
      return read(tx);
    });
  }
  const since = new Date(now.getTime() - KEY_OVERLAP_MS).toISOString();
  const byAge = (a: KeyRow, b: KeyRow) => (a.created_at === b.created_at ? (a.kid < b.kid ? -1 : 1) : a.created_at < b.created_at ? -1 : 1);
  const current = rows.filter((r) => signsAt(r, at)).sort(byAge);
  const upcoming = rows.filter((r) => r.signs_from !== null && r.signs_from > at && liveAt(r, at));
  const previous = rows.filter((r) => r.retired_at !== null && r.retired_at <= at && r.retired_at > since);
  return [...current, ...upcoming, ...previous].map((r) => JSON.parse(unseal(keyOf(ctx), r.sealed_jwk, `oidc-key:${r.kid}`)) as JsonWebKey);
}

/**
 * Replaces the signing keys with new ones. The new keys are published at once and sign from
 * KEY_PUBLISH_MS on, when the current ones stop signing; those stay published for
 * KEY_OVERLAP_MS, and keys retired before that are deleted. `immediately` (a key thought
 * compromised) switches at once, accepting that a service may for a minute meet a key that another
 * instance does not publish yet. Instances pick the change up within a minute (provider.ts).
 * Returns the new and retired key ids, and when the new ones sign.
 */
export async function rotateSigningKeys(ctx: AppContext, opts: { immediately?: boolean } = {}): Promise<{ created: string[]; retired: string[]; signsFrom: string }> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const switchAt = opts.immediately ? at : new Date(now.getTime() + KEY_PUBLISH_MS).toISOString();
  return ctx.db.kysely.transaction().execute(async (tx) => {
    await lockKeys(tx, ctx.db.dialect, ['oidc-keys']);
    // Every key still live stops at the switch (a previous rotation's keys not yet signing too).
    const old = await tx.selectFrom('oidc_keys').select('kid').where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', switchAt)])).execute();
    if (old.length) await tx.updateTable('oidc_keys').set({ retired_at: switchAt }).where('kid', 'in', old.map((r) => r.kid)).execute();
    await tx.deleteFrom('oidc_keys').where('retired_at', '<', new Date(now.getTime() - KEY_OVERLAP_MS).toISOString()).execute();
    const created: string[] = [];
    for (const alg of signingAlgs) created.push(await insertKey(ctx, tx, alg, at, opts.immediately ? null : switchAt));
    return { created, retired: old.map((r) => r.kid), signsFrom: switchAt };
  });
}

/**
 * A fingerprint of the key set as it stands now, to notice a rotation done by another process and
 * the moment a rotation's keys begin to sign.
 */
export async function keySetVersion(ctx: AppContext): Promise<string> {
  const at = ctx.clock.now().toISOString();
  const rows = await ctx.db.kysely.selectFrom('oidc_keys').select(['kid', 'alg', 'created_at', 'retired_at', 'signs_from']).orderBy('kid').execute();
  return rows.map((r) => `${r.kid}:${r.retired_at ?? ''}:${signsAt(r, at) ? 1 : 0}`).join(',');
}
