import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { CSRF_COOKIE, isSecure, metaOf, setSessionCookie } from '../app/request-context.js';
import { randomId } from '../app/secret.js';
import { AppError } from '../errors/app-error.js';
import { addressKey, reserveAttempt } from '../auth/throttle.js';
import { safeReturnTo } from '../flows/login/machine.js';
import { createFlow } from '../flows/kernel/service.js';
import { alignmentHandoff } from '../flows/spid-alignment/service.js';
import { isLocale, translate } from '../i18n/index.js';
import { renderPage } from '../views/layout.js';
import { resolveSpidLogin } from './accounts.js';
import { outgoingRequest } from './authn-request.js';
import type { Outgoing } from './bindings.js';
import { handleLogoutRequest } from './logout.js';
import { consumePendingRequest, findPendingRequest, purgePendingRequests, savePendingRequest } from './pending-requests.js';
import { checkResponse } from './response-check.js';
import { initSpid, spidRuntimeOf, type SpidRuntime } from './runtime.js';
import { parseXml } from './xml.js';

/** Binds a pending request to the browser that started it, so a response cannot be planted in another's. */
export const SPID_COOKIE = 'tessera_spid';

const loginQuery = z.object({ idp: z.string().min(1).max(500), return_to: z.string().max(500).optional() });
const acsBody = z.object({ SAMLResponse: z.string().min(1).max(200_000), RelayState: z.string().max(200).optional() });

function runtime(ctx: AppContext): SpidRuntime {
  const rt = spidRuntimeOf(ctx);
  if (!rt) throw new AppError('spid.not_configured');
  return rt;
}

/** Cross-site POSTs from the IdP carry the cookie only when it is SameSite=None (which needs https). */
const cookieOpts = (ctx: AppContext) =>
  isSecure(ctx) ? ({ path: '/spid', httpOnly: true, sameSite: 'none', secure: true } as const) : ({ path: '/spid', httpOnly: true, sameSite: 'lax' } as const);


/** HTTP-POST binding without JavaScript: one button posts the signed message to the other party. */
function sendPostBinding(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, out: Extract<Outgoing, { binding: 'post' }>, name: string) {
  const t = (k: string, p?: Record<string, string>) => translate(req.locale, k, p);
  reply.header('content-security-policy', `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action ${new URL(out.url).origin}; frame-ancestors 'none'; base-uri 'none'`);
  return reply.type('text/html; charset=utf-8').send(
    renderPage({
      ctx,
      locale: req.locale,
      title: t('spid.post.title'),
      path: req.url,
      children: (
        <div class="card narrow">
          <h1>{t('spid.post.title')}</h1>
          <p class="lead">{t('spid.post.lead', { idp: name })}</p>
          <form method="post" action={out.url}>
            {Object.entries(out.fields).map(([k, v]) => (
              <input type="hidden" name={k} value={v} />
            ))}
            <button type="submit" class="button primary">
              {t('spid.post.continue')}
            </button>
          </form>
        </div>
      ),
    }),
  );
}

/**
 * SPID service provider routes: /spid/metadata, /spid/login, /spid/acs, /spid/slo.
 * Registered only when the institution configures SPID.
 */
export async function registerSpidRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const rt = await initSpid(ctx);
  if (!rt) return;

  app.get('/spid/metadata', (_req, reply) => reply.type('application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(rt.metadata));

  app.get('/spid/login', async (req: FastifyRequest, reply: FastifyReply) => {
    const q = loginQuery.safeParse(req.query);
    if (!q.success) throw new AppError('spid.idp_unknown');
    const idp = runtime(ctx).idps.get(q.data.idp);
    if (!idp) throw new AppError('spid.idp_unknown');
    const now = ctx.clock.now();
    // Each start stores a request: a client address may start only so many in a window.
    if (req.ip) {
      const key = `spid-start:${addressKey(req.ip)}`;
      if (await reserveAttempt(ctx.db.kysely, [[key, { maxFailures: rt.cfg.maxStartsPerAddress, windowMs: 600_000, lockMs: 600_000 }]], now)) throw new AppError('auth.rate_limited');
    }
    await purgePendingRequests(ctx.db.kysely, now);
    const browser = randomId(24);
    const id = `_${randomId(24).replace(/[^A-Za-z0-9]/g, '0')}`;
    const relayState = randomId(24);
    const issueInstant = new Date(Math.floor(now.getTime() / 1000) * 1000);
    await savePendingRequest(ctx.db.kysely, {
      id,
      idp: idp.entityId,
      level: rt.cfg.level,
      comparison: rt.cfg.comparison,
      relay_state: relayState,
      browser_hash: ctx.secrets.hmac('spid-browser', browser),
      return_to: safeReturnTo(q.data.return_to) ?? null,
      locale: req.locale,
      language: req.language,
      issue_instant: issueInstant.toISOString(),
      expires_at: new Date(now.getTime() + rt.cfg.requestLifetimeSeconds * 1000).toISOString(),
      consumed_at: null,
    });
    reply.setCookie(SPID_COOKIE, browser, cookieOpts(ctx));
    reply.header('cache-control', 'no-store');
    const out = outgoingRequest(rt, { id, issueInstant, idp, level: rt.cfg.level, comparison: rt.cfg.comparison, relayState });
    if (out.binding === 'redirect') return reply.redirect(out.url, 302);
    return sendPostBinding(ctx, req, reply, out, idp.name);
  });

  app.post('/spid/acs', async (req, reply) => {
    const rt = runtime(ctx);
    const b = acsBody.safeParse(req.body ?? {});
    if (!b.success) throw new AppError('spid.response_invalid', { params: { reason: 'request.malformed' } });
    const xml = Buffer.from(b.data.SAMLResponse, 'base64').toString('utf8');
    // The request this answers: it must exist, be unexpired, belong to this browser and RelayState.
    let inResponseTo: string | null = null;
    try {
      inResponseTo = (await parseXml(xml)).documentElement.getAttribute('InResponseTo');
    } catch {
      throw new AppError('spid.response_invalid', { params: { reason: 'response.malformed' } });
    }
    const pending = inResponseTo ? await findPendingRequest(ctx.db.kysely, inResponseTo) : null;
    const now = ctx.clock.now();
    const invalid = (reason: string) => new AppError('spid.response_invalid', { params: { reason } });
    if (!pending) throw invalid('response.unsolicited');
    // The IdP's POST carries no language cookie: answer in the language the person started in.
    if (isLocale(pending.locale) && !(req.query as Record<string, unknown>)?.lang) req.locale = pending.locale;
    if (pending.consumed_at) throw invalid('response.replayed');
    if (pending.expires_at <= now.toISOString()) throw invalid('request.expired');
    if (b.data.RelayState !== pending.relay_state) throw invalid('response.relay_state');
    const browser = req.cookies[SPID_COOKIE];
    if (!browser || !ctx.secrets.hmacEquals('spid-browser', browser, pending.browser_hash)) throw invalid('response.other_browser');
    // Single use: whatever the outcome, this request is spent; of two racing responses one wins.
    if (!(await consumePendingRequest(ctx.db.kysely, pending.id, now))) throw invalid('response.replayed');
    reply.clearCookie(SPID_COOKIE, cookieOpts(ctx));
    const checked = await checkResponse(rt, xml, pending, now);
    if (!checked.ok) {
      req.log.warn({ refusal: checked.code, reason: checked.reason, idp: pending.idp }, 'spid: response refused');
      throw new AppError(checked.code, checked.code === 'spid.response_invalid' ? { params: { reason: checked.reason } } : {});
    }
    const meta = metaOf(req);
    const outcome = await resolveSpidLogin(ctx, checked.identity, meta, isLocale(pending.language) ? pending.language : null);
    reply.header('cache-control', 'no-store');
    if (outcome.kind === 'session') {
      setSessionCookie(ctx, reply, outcome.token, outcome.expiresAt);
      return reply.redirect(pending.return_to ?? '/account', 303);
    }
    let csrf = req.cookies[CSRF_COOKIE];
    if (!csrf || !/^[A-Za-z0-9_-]{20,60}$/.test(csrf)) {
      csrf = randomId(24);
      reply.setCookie(CSRF_COOKIE, csrf, { path: '/', httpOnly: true, sameSite: 'lax', secure: isSecure(ctx) });
    }
    const handoff = randomId(18);
    alignmentHandoff.set(handoff, {
      accountId: outcome.account.id,
      personId: outcome.person.id,
      accountVersion: outcome.account.version,
      identity: checked.identity,
      onFile: {
        givenName: outcome.person.givenName,
        familyName: outcome.person.familyName,
        birthDate: outcome.person.birthDate,
        taxCode: outcome.person.taxCode,
        email: outcome.person.personalEmail,
      },
      ...(pending.return_to ? { returnTo: pending.return_to } : {}),
    });
    try {
      const flow = await createFlow(
        ctx,
        'spid-alignment',
        { meta, locale: req.locale, session: null, channel: 'browser' },
        { csrfToken: ctx.secrets.hmac('csrf', csrf), query: { handoff } },
      );
      return reply.redirect(`/flows/spid-alignment/${flow.id}`, 303);
    } finally {
      alignmentHandoff.delete(handoff);
    }
  });

  // Single logout started by an identity provider (HTTP-Redirect or HTTP-POST).
  const slo = async (req: FastifyRequest, reply: FastifyReply) => {
    const src = (req.method === 'GET' ? req.query : req.body) as Record<string, unknown> | undefined;
    const samlRequest = typeof src?.SAMLRequest === 'string' ? src.SAMLRequest : '';
    const relayState = typeof src?.RelayState === 'string' && src.RelayState.length <= 200 ? src.RelayState : undefined;
    if (!samlRequest || samlRequest.length > 200_000) throw new AppError('spid.response_invalid', { params: { reason: 'logout.malformed' } });
    const rawQuery = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const res = await handleLogoutRequest(
      ctx,
      rt,
      req.method === 'GET' ? { binding: 'redirect', samlRequest, relayState, rawQuery } : { binding: 'post', samlRequest, relayState },
      metaOf(req),
    );
    if (!res.ok) throw new AppError('spid.response_invalid', { params: { reason: res.reason } });
    reply.header('cache-control', 'no-store');
    if (!res.out) return reply.redirect('/', 303);
    if (res.out.binding === 'redirect') return reply.redirect(res.out.url, 302);
    return sendPostBinding(ctx, req, reply, res.out, new URL(res.out.url).host);
  };
  app.get('/spid/slo', slo);
  app.post('/spid/slo', slo);
}

