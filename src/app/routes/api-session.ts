import type { FastifyInstance } from 'fastify';
import { revokeOidcForSession } from '../../oidc/revoke.js';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import { audit } from '../../audit/audit.js';
import { AppError } from '../../errors/app-error.js';
import { revokeSession, SESSION_COOKIE } from '../../sessions/sessions.js';
import type { AppContext } from '../context.js';
import { metaOf, sessionOf } from '../request-context.js';

/** GET/DELETE /api/v1/session (API.md "Session"). */
export function registerSessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/api/v1/session', async (req) => {
    const s = await sessionOf(ctx, req);
    const account = s ? await findAccountById(ctx.db.kysely, s.accountId) : null;
    if (!s || !account || account.status !== 'active') throw new AppError('auth.unauthenticated');
    const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
    return {
      account: {
        username: account.username,
        email: account.email,
        population: person?.population ?? null,
        status: account.status,
      },
    };
  });

  app.delete('/api/v1/session', async (req, reply) => {
    const s = await sessionOf(ctx, req);
    if (!s) throw new AppError('auth.unauthenticated');
    await endSession(ctx, s, metaOf(req));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });
}

export async function endSession(ctx: AppContext, s: { sessionId: string; accountId: string }, meta: ReturnType<typeof metaOf>): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (tx) => {
    await revokeSession(tx, s.sessionId, now);
    // What services got through this session ends with it (their refresh tokens included).
    const { grants } = await revokeOidcForSession(tx, s.accountId, s.sessionId, { config: ctx.config, at: now });
    await audit(tx, now, { actor: `account:${s.accountId}`, action: 'logout', accountId: s.accountId, ip: meta.ip, correlationId: meta.correlationId, ...(grants ? { details: { servicesSignedOut: grants } } : {}) });
  });
  // Back-channel logout notices go out now, not at the next poll.
  ctx.kickOutbox();
}
