import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import { bearerToken } from '../app/request-context.js';
import { AppError } from '../errors/app-error.js';
import { audit } from '../audit/audit.js';

declare module 'fastify' {
  interface FastifyRequest {
    admin?: { name: string };
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Authenticates an administrator by bearer token: TESSERA_ADMIN_TOKEN, or a token issued with
 * `tessera admin token` (only its SHA-256 is stored). Produces `auth.unauthenticated`.
 */
export async function requireAdmin(ctx: AppContext, req: FastifyRequest): Promise<void> {
  const token = bearerToken(req);
  if (!token || token.length > 200) throw new AppError('auth.unauthenticated', { headers: { 'www-authenticate': 'Bearer' } });
  const boot = ctx.env.TESSERA_ADMIN_TOKEN;
  if (boot && timingSafeEqual(sha256(token), sha256(boot))) {
    req.admin = { name: 'bootstrap' };
    return;
  }
  const row = await ctx.db.kysely
    .selectFrom('admin_tokens')
    .select(['id', 'name'])
    .where('token_hash', '=', sha256(token).toString('base64url'))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new AppError('auth.unauthenticated', { headers: { 'www-authenticate': 'Bearer' } });
  await ctx.db.kysely.updateTable('admin_tokens').set({ last_used_at: ctx.clock.now().toISOString() }).where('id', '=', row.id).execute();
  req.admin = { name: row.name };
}

/**
 * A token's name: who or what it is for, written in the audit log as `admin:<name>` by every
 * change made with it. 1–100 printable characters.
 */
export function adminTokenName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || name.length > 100 || /[\p{Cc}\p{Cf}]/u.test(name)) throw new Error('the token name must be 1 to 100 printable characters');
  return name;
}

/**
 * Issues an administrator API token; the token is shown once, only its hash is kept. The issue
 * is audited (actor `cli`, the token's id and name).
 */
export async function issueAdminToken(ctx: AppContext, name: string): Promise<{ id: string; token: string }> {
  const token = `tsa_${randomBytes(32).toString('base64url')}`;
  // Never starting with '-': `tessera admin revoke ID` would read such an id as an option.
  const id = randomId().replace(/^-/, 'A');
  const now = ctx.clock.now();
  const checked = adminTokenName(name);
  await ctx.db.kysely.transaction().execute(async (tx) => {
    await tx
      .insertInto('admin_tokens')
      .values({ id, name: checked, token_hash: sha256(token).toString('base64url'), created_at: now.toISOString(), last_used_at: null, revoked_at: null })
      .execute();
    await audit(tx, now, { actor: 'cli', action: 'admin.token_issued', details: { tokenId: id, name: checked } });
  });
  return { id, token };
}

/** The issued tokens, newest first: never the token or its hash. */
export async function listAdminTokens(ctx: AppContext) {
  return ctx.db.kysely.selectFrom('admin_tokens').select(['id', 'name', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at', 'desc').execute();
}

/** Revokes a token by its id (audited); false when no token that is still valid has that id. */
export async function revokeAdminToken(ctx: AppContext, id: string): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('admin_tokens').select(['id', 'name']).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    if (!row) return false;
    await tx.updateTable('admin_tokens').set({ revoked_at: now.toISOString() }).where('id', '=', id).execute();
    await audit(tx, now, { actor: 'cli', action: 'admin.token_revoked', details: { tokenId: id, name: row.name } });
    return true;
  });
}
