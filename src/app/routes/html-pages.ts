import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import { AppError } from '../../errors/app-error.js';
import { pendingRequestOf } from '../../mailboxes/requests.js';
import { allowedServices } from '../../oidc/consents.js';
import { consentCsrf } from '../../oidc/consent-routes.js';
import { SESSION_COOKIE } from '../../sessions/sessions.js';
import { renderAccount } from '../../views/pages/account.js';
import { renderHome } from '../../views/pages/home.js';
import type { AppContext } from '../context.js';
import { metaOf, sessionOf } from '../request-context.js';
import { signInFirst } from './html-flows.js';
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

const xmlEscape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The tab icon: the institution's initial on its colour, so no image file has to be configured. */
function brandIcon(ctx: AppContext): string {
  const inst = ctx.config.institution;
  const initial = xmlEscape(Array.from(inst.shortName ?? inst.id)[0]?.toUpperCase() ?? 'T');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${xmlEscape(inst.branding.primaryColor)}"/><text x="16" y="22.5" font-family="Georgia, serif" font-size="19" font-weight="700" fill="#fff" text-anchor="middle">${initial}</text></svg>`;
}

export function registerHtmlPageRoutes(app: FastifyInstance, ctx: AppContext): void {
  const theme = `:root{--brand:${ctx.config.institution.branding.primaryColor};}\n`;
  const icon = brandIcon(ctx);
  app.get('/assets/tessera.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css));
  app.get('/assets/icon.svg', (_req, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=3600').send(icon));
  app.get('/favicon.ico', (_req, reply) => reply.redirect('/assets/icon.svg', 301));
  app.get('/assets/theme.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(theme));

  app.get('/', async (req, reply) => {
    const signedIn = await signedInInfo(ctx, req);
    return reply.type('text/html; charset=utf-8').send(renderHome(ctx, req.locale, req.url, signedIn));
  });

  app.get('/login', (_req, reply) => reply.redirect('/flows/login', 303));

  app.get('/account', async (req, reply) => {
    const s = await sessionOf(ctx, req);
    const account = s ? await findAccountById(ctx.db.kysely, s.accountId) : null;
    if (!s || !account) return reply.redirect(await signInFirst(ctx, req, reply, '/account'), 303);
    const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
    const pending = account.email ? null : await pendingRequestOf(ctx.db.kysely, account.id);
    const consents = { list: await allowedServices(ctx, account.id), csrf: consentCsrf(ctx, s.sessionId) };
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderAccount(ctx, req.locale, req.url, account, person, logoutCsrf(ctx, s.sessionId), pending && { createdAt: pending.created_at, flowId: pending.flow_id }, consents));
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
