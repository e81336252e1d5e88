import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app/context.js';
import { metaOf, sessionOf } from '../app/request-context.js';
import { AppError } from '../errors/app-error.js';
import { localized } from '../views/localized.js';
import { allowedServices, withdrawConsent } from './consents.js';

/** The account page's withdraw buttons: bound to the session, so another site cannot press them. */
export const consentCsrf = (ctx: AppContext, sessionId: string) => ctx.secrets.hmac('consents', sessionId);

/** Browser: `POST /account/consents` (form `service`, `_csrf`) withdraws what the person allowed a service. */
export function registerConsentHtmlRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post('/account/consents', async (req, reply) => {
    const s = await sessionOf(ctx, req);
    if (!s) return reply.redirect('/flows/login', 303);
    const form = (req.body ?? {}) as Record<string, unknown>;
    if (typeof form._csrf !== 'string' || !ctx.secrets.hmacEquals('consents', s.sessionId, form._csrf)) throw new AppError('auth.csrf');
    if (typeof form.service === 'string') await withdrawConsent(ctx, s.accountId, form.service, metaOf(req));
    // Post-redirect-get: the account page lists what is still allowed.
    return reply.redirect('/account#h-consents', 303);
  });
}

/**
 * JSON API (with the session): `GET /api/v1/session/consents` lists the services the person
 * allowed; `DELETE /api/v1/session/consents/{service}` withdraws one (204; 404 when there was none).
 */
export function registerConsentApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/api/v1/session/consents', async (req) => {
    const s = await sessionOf(ctx, req);
    if (!s) throw new AppError('auth.unauthenticated');
    const list = await allowedServices(ctx, s.accountId);
    return { consents: list.map((c) => ({ service: c.service, name: localized(c.name, req.locale), scopes: c.scopes, grantedAt: c.grantedAt })) };
  });
  app.delete('/api/v1/session/consents/:service', async (req, reply) => {
    const s = await sessionOf(ctx, req);
    if (!s) throw new AppError('auth.unauthenticated');
    const service = (req.params as { service: string }).service;
    if (!(await withdrawConsent(ctx, s.accountId, service, metaOf(req)))) throw new AppError('not_found');
    return reply.status(204).send();
  });
}
