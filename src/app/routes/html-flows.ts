import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { randomId } from '../secret.js';
import type { AppContext } from '../context.js';
import { AppError } from '../../errors/app-error.js';
import { advanceFlow, createFlow, loadFlow, viewOf, type FlowView } from '../../flows/kernel/service.js';
import { getFlowDefinition } from '../../flows/kernel/registry.js';
import { CSRF_COOKIE, isSecure, metaOf, sessionOf, setSessionCookie } from '../request-context.js';
import { renderFlowPage } from '../../views/pages/flow-page.js';
import { signedInInfo } from './html-pages.js';

const params = z.object({ kind: z.string().regex(/^[a-z][a-z-]{1,40}$/), id: z.string().max(80).optional() });

/**
 * Browser flows are bound to the browser that started them: the flow stores an HMAC of the
 * browser's CSRF cookie, and every form carries the same value. A form posted from another site,
 * or another browser's flow, is refused (`auth.csrf`).
 */
function csrfCookie(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): string {
  let c = req.cookies[CSRF_COOKIE];
  if (!c || !/^[A-Za-z0-9_-]{20,60}$/.test(c)) {
    c = randomId(24);
    reply.setCookie(CSRF_COOKIE, c, { path: '/', httpOnly: true, sameSite: 'lax', secure: isSecure(ctx) });
  }
  return c;
}

export function registerHtmlFlowRoutes(app: FastifyInstance, ctx: AppContext): void {
  const page = async (req: FastifyRequest, reply: FastifyReply, view: FlowView, csrf: string, values: Record<string, string>, status = 200) => {
    const signedIn = await signedInInfo(ctx, req);
    return reply
      .status(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderFlowPage({ ctx, locale: req.locale, path: req.url, view, csrf, values, signedIn, reference: String(req.id) }));
  };

  app.get('/flows/:kind', async (req, reply) => {
    const p = params.parse(req.params);
    const def = getFlowDefinition(p.kind);
    const session = await sessionOf(ctx, req);
    if (def.requiresSession && !session) {
      return reply.redirect(`/flows/login?return_to=${encodeURIComponent(`/flows/${p.kind}`)}`, 303);
    }
    const cookie = csrfCookie(ctx, req, reply);
    const flow = await createFlow(
      ctx,
      p.kind,
      { meta: metaOf(req), locale: req.locale, session, channel: 'browser' },
      { csrfToken: ctx.secrets.hmac('csrf', cookie), query: req.query as Record<string, string> },
    );
    return reply.redirect(`/flows/${p.kind}/${flow.id}`, 303);
  });

  app.get('/flows/:kind/:id', async (req, reply) => {
    const p = params.parse(req.params);
    const flow = await loadFlow(ctx, p.kind, p.id!);
    const cookie = req.cookies[CSRF_COOKIE];
    if (!cookie || !ctx.secrets.hmacEquals('csrf', cookie, flow.csrfToken)) throw new AppError('flow.not_found');
    return page(req, reply, viewOf(ctx, flow, req.locale), flow.csrfToken, {});
  });

  app.post('/flows/:kind/:id', async (req, reply) => {
    const p = params.parse(req.params);
    const def = getFlowDefinition(p.kind);
    const form = (req.body ?? {}) as Record<string, unknown>;
    const flow = await loadFlow(ctx, p.kind, p.id!);
    const cookie = req.cookies[CSRF_COOKIE];
    if (!cookie || !ctx.secrets.hmacEquals('csrf', cookie, flow.csrfToken) || form._csrf !== flow.csrfToken) {
      throw new AppError('auth.csrf');
    }
    const action = typeof form.action === 'string' ? form.action : 'submit';
    const session = await sessionOf(ctx, req);
    const res = await advanceFlow(ctx, p.kind, p.id!, action, form, { meta: metaOf(req), locale: req.locale, session, channel: 'browser' });
    if (res.sessionToken) setSessionCookie(ctx, reply, res.sessionToken, res.sessionExpiresAt);
    if (!res.ok) {
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(form)) {
        if (typeof v === 'string' && k !== '_csrf' && !(def.secretFields ?? []).includes(k)) values[k] = v;
      }
      return page(req, reply, res.view, flow.csrfToken, values, res.status);
    }
    // Post/redirect/get: a reload never resubmits.
    const next = res.view.state === 'completed' ? def.browserNext?.({ ...flow, state: res.view.state }) : null;
    return reply.redirect(next ?? `/flows/${p.kind}/${flow.id}`, 303);
  });
}
