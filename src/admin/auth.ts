import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import { bearerToken } from '../app/request-context.js';
import { AppError } from '../errors/app-error.js';

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

/** Issues an administrator API token; the token is shown once, only its hash is kept. */
export async function issueAdminToken(ctx: AppContext, name: string): Promise<string> {
  const token = `tsa_${randomBytes(32).toString('base64url')}`;
  await ctx.db.kysely
    .insertInto('admin_tokens')
    .values({ id: randomId(), name, token_hash: sha256(token).toString('base64url'), created_at: ctx.clock.now().toISOString(), last_used_at: null, revoked_at: null })
    .execute();
  return token;
}
