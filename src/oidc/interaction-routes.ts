import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { metaOf, sessionOf } from '../app/request-context.js';
import { audit } from '../audit/audit.js';
import { AppError } from '../errors/app-error.js';
import { localized } from '../views/localized.js';
import { sessionAccount, type SessionAccount } from './claims.js';
import { rememberConsent } from './consents.js';
import { SESSION_COOKIE } from '../sessions/sessions.js';
import { renderConsentPage, renderContinuePage, renderRefusedPage } from './interaction-pages.js';
import { interactionPath, lazyProvider } from './lazy-provider.js';
import { publicRequest } from './mount.js';
import { findServiceWithSecret } from './services.js';
import { signInFirst } from '../app/routes/html-flows.js';
import { LANG_COOKIE } from '../app/request-context.js';
import { isLocale, type Locale } from '../i18n/index.js';

const params = z.object({ uid: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/) });
/** The interaction id of the path; a malformed one is an interaction that does not exist. */
function uidOf(req: FastifyRequest): string {
  const p = params.safeParse(req.params);
  if (!p.success) throw new AppError('flow.not_found');
  return p.data.uid;
}
type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

async function detailsOf(ctx: AppContext, provider: Provider, req: FastifyRequest, reply: FastifyReply): Promise<Details> {
  try {
    return await provider.interactionDetails(publicRequest(ctx, req), reply.raw);
  } catch {
    // Unknown, expired or another browser's interaction: the service must start again.
    throw new AppError('flow.expired');
  }
}

/**
 * The language a service asked its pages in (`ui_locales`: the first of its list Tessera speaks),
 * unless the person chose one on the site (`?lang=`, the language cookie): it then wins over the
 * browser's Accept-Language on the interaction's pages and the sign-in page they lead to.
 */
function uiLocaleOf(req: FastifyRequest, details: Details): Locale | null {
  const q = (req.query ?? {}) as Record<string, unknown>;
  if (isLocale(q.lang) || isLocale(req.cookies[LANG_COOKIE])) return null;
  const asked = typeof details.params.ui_locales === 'string' ? details.params.ui_locales.split(' ') : [];
  const found = asked.map((tag) => tag.toLowerCase().split('-')[0]).find(isLocale);
  if (!found) return null;
  req.locale = found;
  req.language = found;
  return found;
}

/** The sign-in page for `returnTo`, in the language the service asked for when it asked for one. */
async function signInPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, returnTo: string, ui: Locale | null): Promise<string> {
  const page = await signInFirst(ctx, req, reply, returnTo);
  return ui ? `${page}?lang=${ui}` : page;
}

const consentCsrf = (ctx: AppContext, uid: string, sessionId: string) => ctx.secrets.hmac('oidc-consent', `${uid}:${sessionId}`);
const reauthSig = (ctx: AppContext, uid: string, since: number) => ctx.secrets.hmac('oidc-reauth', `${uid}:${since}`);

/**
 * Whether the Tessera session may answer the provider's login prompt. It may, unless the service
 * asked for a fresh sign-in: `prompt=login` (only a sign-in made after this interaction sent the
 * person to the login page counts: `since`, signed, on the way back), `max_age` (the session's
 * sign-in must be that recent, or made after `since`), or an `id_token_hint` naming someone else
 * (after a fresh sign-in still as someone else, the service gets `login_required`).
 */
function freshness(ctx: AppContext, uid: string, req: FastifyRequest, session: SessionAccount, details: Details): 'ok' | 'sign_in_again' | 'other_person' {
  const reasons = new Set(details.prompt.reasons);
  const q = (req.query ?? {}) as Record<string, unknown>;
  const since = Number(q.since);
  const signedInSince = Number.isFinite(since) && typeof q.sig === 'string' && ctx.secrets.hmacEquals('oidc-reauth', `${uid}:${since}`, q.sig) && session.authenticatedAt.getTime() >= since;
  if (reasons.has('login_prompt') && !signedInSince) return 'sign_in_again';
  const maxAge = Number(details.params.max_age);
  if (reasons.has('max_age') && Number.isFinite(maxAge) && !signedInSince && ctx.clock.now().getTime() - session.authenticatedAt.getTime() > maxAge * 1000) return 'sign_in_again';
  if (reasons.has('id_token_hint')) {
    const hinted = subjectOf(String(details.params.id_token_hint ?? ''));
    if (hinted !== session.accountId) return signedInSince ? 'other_person' : 'sign_in_again';
  }
  return 'ok';
}

/** The subject of an ID token the provider has already verified (as the hint of this request). */
function subjectOf(idToken: string): string | null {
  try {
    return (JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as { sub?: string }).sub ?? null;
  } catch {
    return null;
  }
}

/**
 * The provider's interactions, bridged to Tessera's own pages:
 * - login: the Tessera login flow (same page, same rules, same brute-force limits) returning
 *   here; someone already signed in to Tessera passes straight through (single sign-on);
 * - a population the service does not admit: a page saying so, whose link gives the service
 *   `access_denied`;
 * - consent: only for services that are not first-party.
 * Produces `flow.expired` (interaction unknown or expired), `auth.csrf`.
 */
export function registerInteractionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const html = (reply: FastifyReply, body: string, status = 200) =>
    reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

  const handle = async (req: FastifyRequest, reply: FastifyReply, afterForm: boolean) => {
    const uid = uidOf(req);
    const provider = await lazyProvider(ctx);
    const details = await detailsOf(ctx, provider, req, reply);
    const ui = uiLocaleOf(req, details);
    const token = req.cookies[SESSION_COOKIE];
    const session = token ? await sessionAccount(ctx, token) : null;
    if (!session?.active) {
      return reply.redirect(await signInPage(ctx, req, reply, `${interactionPath(uid)}/login`, ui), 303);
    }
    const clientId = String(details.params.client_id);
    const found = await findServiceWithSecret(ctx, clientId);
    if (!found) throw new AppError('flow.expired');
    const service = localized(found.service.name, req.locale);
    const { population } = session;
    const record = (action: string) =>
      audit(ctx.db.kysely, ctx.clock.now(), {
        actor: `account:${session.accountId}`,
        action,
        accountId: session.accountId,
        ip: metaOf(req).ip,
        correlationId: String(req.id),
        details: { service: clientId },
      });
    if (!population || !(found.service.populations as string[]).includes(population)) {
      await record('sso.refused_population');
      const back = await provider.interactionResult(
        publicRequest(ctx, req),
        reply.raw,
        { error: 'access_denied', error_description: 'access.service_not_available' },
        { mergeWithLastSubmission: false },
      );
      return html(reply, renderRefusedPage({ ctx, locale: req.locale, path: req.url, service, population, back }), 403);
    }
    if (details.prompt.name === 'login') {
      const fresh = freshness(ctx, uid, req, session, details);
      if (fresh === 'sign_in_again') {
        // prompt=login, max_age exceeded or another person's id_token_hint: the password again.
        const since = ctx.clock.now().getTime();
        const back = `${interactionPath(uid)}/login?since=${since}&sig=${reauthSig(ctx, uid, since)}`;
        return reply.redirect(await signInPage(ctx, req, reply, back, ui), 303);
      }
      if (fresh === 'other_person') {
        await record('sso.hint_mismatch');
        const back = await provider.interactionResult(
          publicRequest(ctx, req),
          reply.raw,
          { error: 'login_required', error_description: 'signed in as another person than the id_token_hint names' },
          { mergeWithLastSubmission: false },
        );
        return afterForm ? html(reply, renderContinuePage({ ctx, locale: req.locale, path: req.url, service, next: back })) : reply.redirect(back, 303);
      }
      await record('sso.login');
      // auth_time is when the password was typed (the Tessera session began), not now.
      const age = ctx.clock.now().getTime() - session.authenticatedAt.getTime();
      const next = await provider.interactionResult(
        publicRequest(ctx, req),
        reply.raw,
        { login: { accountId: session.accountId, amr: ['pwd'], ts: Math.floor((Date.now() - Math.max(0, age)) / 1000) } },
        { mergeWithLastSubmission: false },
      );
      return afterForm ? html(reply, renderContinuePage({ ctx, locale: req.locale, path: req.url, service, next })) : reply.redirect(next, 303);
    }
    if (details.prompt.name === 'consent') {
      if (details.session?.accountId !== session.accountId) throw new AppError('flow.expired');
      // prompt=consent asks again for what was allowed before: then the list is what is requested.
      const missing = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
      const asked = (missing.length ? missing : String(details.params.scope ?? '').split(' ')).filter((s) => s && s !== 'openid');
      // Only the identifier asked for (an app confirming a sign-in, RFC 8252): the page names it.
      const scopes = asked.length ? asked : ['openid'];
      return html(
        reply,
        renderConsentPage({
          ctx,
          locale: req.locale,
          path: req.url,
          service,
          scopes,
          action: `${interactionPath(uid)}/confirm`,
          csrf: consentCsrf(ctx, uid, session.sessionId),
        }),
      );
    }
    throw new AppError('flow.wrong_state');
  };

  app.get('/oidc/interaction/:uid', (req, reply) => handle(req, reply, false));
  app.get('/oidc/interaction/:uid/login', (req, reply) => handle(req, reply, true));

  app.post('/oidc/interaction/:uid/confirm', async (req, reply) => {
    const uid = uidOf(req);
    const form = (req.body ?? {}) as Record<string, unknown>;
    const provider = await lazyProvider(ctx);
    const details = await detailsOf(ctx, provider, req, reply);
    uiLocaleOf(req, details);
    const session = await sessionOf(ctx, req);
    if (!session || details.prompt.name !== 'consent' || details.session?.accountId !== session.accountId) throw new AppError('flow.expired');
    if (form._csrf !== consentCsrf(ctx, uid, session.sessionId)) throw new AppError('auth.csrf');
    const found = await findServiceWithSecret(ctx, String(details.params.client_id));
    if (!found) throw new AppError('flow.expired');
    let next: string;
    if (form.action === 'allow') {
      const grant = details.grantId
        ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId: session.accountId, clientId: found.service.id }))
        : new provider.Grant({ accountId: session.accountId, clientId: found.service.id });
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
      const grantId = await grant.save();
      // Remembered beyond this browser session: the next sign-in asks only for what is new.
      await rememberConsent(ctx.db.kysely, session.accountId, found.service.id, { scopes: (grant.getOIDCScope() || '').split(' ').filter(Boolean), claims: grant.getOIDCClaims() }, ctx.clock.now());
      next = await provider.interactionResult(publicRequest(ctx, req), reply.raw, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } else {
      next = await provider.interactionResult(publicRequest(ctx, req), reply.raw, { error: 'access_denied', error_description: 'consent refused' }, { mergeWithLastSubmission: false });
    }
    // The language links lead on as the page does (this address takes posts only).
    const onward = new URL(next, ctx.env.PUBLIC_URL);
    return html(reply, renderContinuePage({ ctx, locale: req.locale, path: `${onward.pathname}${onward.search}`, service: localized(found.service.name, req.locale), next }));
  });
}
