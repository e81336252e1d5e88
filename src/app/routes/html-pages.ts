import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import { AppError } from '../../errors/app-error.js';
import { SESSION_COOKIE } from '../../sessions/sessions.js';
import { renderAccount } from '../../views/pages/account.js';
import { renderHome } from '../../views/pages/home.js';
import type { AppContext } from '../context.js';
import { metaOf, sessionOf } from '../request-context.js';
import { endSession } from './api-session.js';

const css = readFileSync(new URL('../../views/assets/tessera.css', import.meta.url), 'utf8');

/** The logout form's token: bound to the session, so another site cannot sign a person out. */
export const logoutCsrf = (ctx: AppContext, sessionId: string) => ctx.secrets.hmac('logout', sessionId);

export async function signedInInfo(ctx: AppContext, req: FastifyRequest): Promise<{ username: string; logoutCsrf: string } | null> {
  const s = await sessionOf(ctx, req);
  if (!s) return null;
  const a = await findAccountById(ctx.db.kysely, s.accountId);
  return a ? { username: a.username, logoutCsrf: logoutCsrf(ctx, s.sessionId) } : null;
}

export function registerHtmlPageRoutes(app: FastifyInstance, ctx: AppContext): void {
  const theme = `:root{--brand:${ctx.config.institution.branding.primaryColor};}\n`;
  app.get('/assets/tessera.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css));
  app.get('/assets/theme.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(theme));

  app.get('/', async (req, reply) => {
    const signedIn = await signedInInfo(ctx, req);
    return reply.type('text/html; charset=utf-8').send(renderHome(ctx, req.locale, req.url, signedIn));
  });

  app.get('/login', (_req, reply) => reply.redirect('/flows/login', 303));

  app.get('/account', async (req, reply) => {
    const s = await sessionOf(ctx, req);
    const account = s ? await findAccountById(ctx.db.kysely, s.accountId) : null;
    if (!s || !account) return reply.redirect('/flows/login?return_to=%2Faccount', 303);
    const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderAccount(ctx, req.locale, req.url, account, person, logoutCsrf(ctx, s.sessionId)));
  });

  app.post('/logout', async (req, reply) => {
    const s = await sessionOf(ctx, req);
    const form = (req.body ?? {}) as Record<string, unknown>;
    if (s) {
      if (form._csrf !== logoutCsrf(ctx, s.sessionId)) throw new AppError('auth.csrf');
      await endSession(ctx, s, metaOf(req));
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/', 303);
  });
}
