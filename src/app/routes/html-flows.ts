import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomId } from '../secret.js';
import type { AppContext } from '../context.js';
import { AppError } from '../../errors/app-error.js';
import { advanceFlow, createFlow, loadFlow, retryAfterOf, showFlow, type FlowView, type LoadedFlow } from '../../flows/kernel/service.js';
import { seal, unseal } from '../seal.js';
import { flowParams, getFlowDefinition } from '../../flows/kernel/registry.js';
import { CSRF_COOKIE, isSecure, metaOf, sessionOf, setSessionCookie } from '../request-context.js';
import { renderFlowPage } from '../../views/pages/flow-page.js';
import { signedInInfo } from './html-pages.js';

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

/**
 * Starts a flow of `kind` in this browser (bound to its CSRF cookie, set here when missing) and
 * returns the address of its page. A page that sends someone to sign in first (a service's
 * sign-in, the account page) starts the login flow itself: one redirect instead of two.
 */
export async function startBrowserFlow(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, kind: string, query: Record<string, string>): Promise<string> {
  const cookie = csrfCookie(ctx, req, reply);
  const flow = await createFlow(
    ctx,
    kind,
    { meta: metaOf(req), locale: req.locale, session: await sessionOf(ctx, req), channel: 'browser' },
    { csrfToken: ctx.secrets.hmac('csrf', cookie), query },
  );
  return `/flows/${kind}/${flow.id}`;
}

/** Where to send someone who must sign in before `returnTo`: a new login flow's page. */
export const signInFirst = (ctx: AppContext, req: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<string> =>
  startBrowserFlow(ctx, req, reply, 'login', { return_to: returnTo });

/**
 * What a person typed into a step that came back with errors (never a secret field), kept for ten
 * minutes in an encrypted cookie of the flow's page: switching the language there (a plain link)
 * shows the same step with the same values, while the flow itself stays unchanged.
 */
const DRAFT_COOKIE = 'tessera_draft';
const DRAFT_SECONDS = 600;
const draftPath = (flow: LoadedFlow) => `/flows/${flow.kind}/${flow.id}`;

function keepDraft(ctx: AppContext, reply: FastifyReply, flow: LoadedFlow, values: Record<string, string>): void {
  const body = JSON.stringify({ s: flow.state, v: values });
  if (body.length > 2000) return;
  const sealed = seal(ctx.secrets.key('flow-draft'), body, flow.id);
  reply.setCookie(DRAFT_COOKIE, sealed, { path: draftPath(flow), httpOnly: true, sameSite: 'lax', maxAge: DRAFT_SECONDS, secure: isSecure(ctx) });
}

function readDraft(ctx: AppContext, req: FastifyRequest, flow: LoadedFlow): Record<string, string> {
  const sealed = req.cookies[DRAFT_COOKIE];
  if (!sealed) return {};
  try {
    const d = JSON.parse(unseal(ctx.secrets.key('flow-draft'), sealed, flow.id)) as { s?: unknown; v?: unknown };
    if (d.s !== flow.state || !d.v || typeof d.v !== 'object') return {};
    return Object.fromEntries(Object.entries(d.v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
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
    const p = flowParams.parse(req.params);
    const def = getFlowDefinition(p.kind);
    if (def.requiresSession && !(await sessionOf(ctx, req))) return reply.redirect(await signInFirst(ctx, req, reply, `/flows/${p.kind}`), 303);
    return reply.redirect(await startBrowserFlow(ctx, req, reply, p.kind, req.query as Record<string, string>), 303);
  });

  app.get('/flows/:kind/:id', async (req, reply) => {
    const p = flowParams.parse(req.params);
    const flow = await loadFlow(ctx, p.kind, p.id!);
    const cookie = req.cookies[CSRF_COOKIE];
    if (!cookie || !ctx.secrets.hmacEquals('csrf', cookie, flow.csrfToken)) throw new AppError('flow.not_found');
    return page(req, reply, await showFlow(ctx, flow, req.locale), flow.csrfToken, readDraft(ctx, req, flow));
  });

  app.post('/flows/:kind/:id', async (req, reply) => {
    const p = flowParams.parse(req.params);
    const def = getFlowDefinition(p.kind);
    const form = (req.body ?? {}) as Record<string, unknown>;
    const flow = await loadFlow(ctx, p.kind, p.id!);
    const cookie = req.cookies[CSRF_COOKIE];
    if (!cookie || !ctx.secrets.hmacEquals('csrf', cookie, flow.csrfToken) || form._csrf !== flow.csrfToken) {
      throw new AppError('auth.csrf');
    }
    const action = typeof form.action === 'string' ? form.action : 'submit';
    const session = await sessionOf(ctx, req);
    let res;
    try {
      res = await advanceFlow(ctx, p.kind, flow, action, form, { meta: metaOf(req), locale: req.locale, language: req.language, session, channel: 'browser' });
    } catch (e) {
      // A form sent twice (a double click, or sent again after the back button): the first one
      // moved the flow on. The browser shows the answer to the last one, so it shows where the
      // flow stands now, not an error that hides what the first one did.
      if (!(e instanceof AppError) || e.code !== 'flow.wrong_state') throw e;
      const now = await loadFlow(ctx, p.kind, p.id!);
      const next = now.state === 'completed' ? def.browserNext?.(now) : null;
      return reply.redirect(next ?? `/flows/${p.kind}/${flow.id}`, 303);
    }
    if (res.sessionToken) setSessionCookie(ctx, reply, res.sessionToken, res.sessionExpiresAt);
    if (!res.ok) {
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(form)) {
        if (typeof v === 'string' && k !== '_csrf' && !(def.secretFields ?? []).includes(k)) values[k] = v;
      }
      keepDraft(ctx, reply, flow, values);
      // The wait the page states, in the header too (as the API sends it).
      const retryAfter = retryAfterOf(res);
      if (retryAfter !== null) reply.header('retry-after', String(retryAfter));
      return page(req, reply, res.view, flow.csrfToken, values, res.status);
    }
    if (req.cookies[DRAFT_COOKIE]) reply.clearCookie(DRAFT_COOKIE, { path: draftPath(flow) });
    // Post/redirect/get: a reload never resubmits.
    const next = res.view.state === 'completed' ? def.browserNext?.({ ...flow, state: res.view.state }) : null;
    return reply.redirect(next ?? `/flows/${p.kind}/${flow.id}`, 303);
  });
}
