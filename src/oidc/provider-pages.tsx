import { createHash } from 'node:crypto';
import { errors, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';
import type { ComponentChildren } from 'preact';
import type { AppContext } from '../app/context.js';
import { isSecure, LANG_COOKIE } from '../app/request-context.js';
import { hasMessage, isLocale, negotiateLocale, translate, type Locale } from '../i18n/index.js';
import { renderPage } from '../views/layout.js';
import { localized } from '../views/localized.js';
import { oidcRoutes } from './lazy-provider.js';
import { serviceNameOf } from './services.js';

type Oidc = KoaContextWithOIDC['oidc'];
type Translate = (key: string, p?: Record<string, string>) => string;

/** `?lang=` of a request reaching the provider, when it names one of Tessera's languages. */
function askedLocale(k: KoaContextWithOIDC): Locale | null {
  const q = k.query['lang'];
  return isLocale(q) ? q : null;
}

/**
 * The language of a provider page: `?lang=`, then the language cookie, then the first language of
 * the service's `ui_locales` Tessera speaks, Accept-Language, the institution's default.
 */
function localeOf(ctx: AppContext, k: KoaContextWithOIDC): Locale {
  const asked = askedLocale(k);
  if (asked) return asked;
  const c = k.cookies.get(LANG_COOKIE, { signed: false });
  if (isLocale(c)) return c;
  const ui = k.oidc?.params?.ui_locales;
  const fromService = typeof ui === 'string' ? ui.split(' ').map((tag) => tag.toLowerCase().split('-')[0]).find(isLocale) : undefined;
  return fromService ?? negotiateLocale(k.get('accept-language') || undefined, ctx.config.institution.defaultLocale);
}

const originOf = (uri: unknown): string | null => {
  try {
    return typeof uri === 'string' ? new URL(uri).origin : null;
  } catch {
    return null;
  }
};

/** `path` with the provider's parameters (their string values) as its query string. */
function withParams(path: string, params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (typeof value === 'string' && name !== 'lang') q.set(name, value);
  const query = q.toString();
  return query ? `${path}?${query}` : path;
}

/**
 * Where the language links of a provider page lead: the same page again by GET, with its query
 * string (the links set `lang`). A page answering a posted form gets the posted parameters as
 * its query string, at the endpoint that also answers GET: the authorization endpoint, or the
 * sign-out page (naming the service an ID token hint named, rather than carrying the token in an
 * address). An error of the sign-out step, which takes only POST, leads to the sign-out page.
 * A resumed authorization's address works once: its page leads to the authorization request.
 */
function pagePath(k: KoaContextWithOIDC): string {
  const oidc = k.oidc as Oidc | undefined;
  const params = oidc?.params as Record<string, unknown> | undefined;
  const route = oidc?.route;
  if (k.method === 'GET' || k.method === 'HEAD') {
    if (route === 'resume' && params) return withParams(oidcRoutes.authorization, params);
    return k.originalUrl;
  }
  if (route === 'authorization' && params) return withParams(oidcRoutes.authorization, params);
  if (route === 'end_session' && params) {
    const clientId = oidc?.client?.clientId;
    return withParams(oidcRoutes.end_session, clientId ? { ...params, id_token_hint: undefined, client_id: clientId } : params);
  }
  if (route === 'end_session_confirm') return withParams(oidcRoutes.end_session, { client_id: oidc?.session?.state?.['clientId'] });
  return k.path;
}

/** Adds `source` to a directive of the answer's Content-Security-Policy (adding the directive when missing). */
function allowIn(k: KoaContextWithOIDC, directive: string, source: string): void {
  const csp = k.response.get('content-security-policy');
  if (typeof csp !== 'string' || !csp) return;
  const parts = csp
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
  const i = parts.findIndex((d) => d === directive || d.startsWith(`${directive} `));
  if (i >= 0) parts[i] = `${parts[i]} ${source}`;
  else parts.push(`${directive} ${source}`);
  k.set('content-security-policy', parts.join(';'));
}

/**
 * The policy of the sign-out pages. Their form posts to the sign-out step, which is then
 * redirected to the service's post-logout address; browsers apply `form-action` to that redirect
 * too, so the policy also names the origin of that (already validated) address.
 */
function signOutPolicy(k: KoaContextWithOIDC, postLogoutRedirectUri: unknown): void {
  const target = originOf(postLogoutRedirectUri);
  k.set(
    'content-security-policy',
    `default-src 'none';style-src 'self';img-src 'self' data:;font-src 'self';form-action 'self'${target ? ` ${target}` : ''};frame-ancestors 'none';base-uri 'none'`,
  );
}

/** The answers rendered here, told apart from the pages the provider writes itself (see `providerPages`). */
const written = new WeakSet<KoaContextWithOIDC>();

function write(ctx: AppContext, k: KoaContextWithOIDC, locale: Locale, title: string, children: ComponentChildren, head?: ComponentChildren): void {
  written.add(k);
  k.type = 'html';
  k.body = renderPage({ ctx, locale, title, path: pagePath(k), ...(head ? { head } : {}), children });
}

// The one script Tessera's pages run: it submits the page's form, whose button does the same
// without JavaScript. The policy of the page allows exactly this script, by its hash.
const AUTO_SUBMIT = "document.addEventListener('DOMContentLoaded',function(){document.getElementById('continue').submit()})";
const AUTO_SUBMIT_SOURCE = `'sha256-${createHash('sha256').update(AUTO_SUBMIT).digest('base64')}'`;

/** A page whose form posts `fields` to `action` on its own (with JavaScript) or with its Continue button. */
function writeAutoPost(ctx: AppContext, k: KoaContextWithOIDC, p: { locale: Locale; title: string; lead: string; action: string; fields: Record<string, string> }): void {
  const t: Translate = (key, params) => translate(p.locale, key, params);
  allowIn(k, 'script-src', AUTO_SUBMIT_SOURCE);
  write(
    ctx,
    k,
    p.locale,
    p.title,
    <div class="card narrow">
      <h1>{p.title}</h1>
      <p class="lead">{p.lead}</p>
      <form id="continue" method="post" action={p.action}>
        {Object.entries(p.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <p class="actions">
          <button autofocus type="submit" class="button primary">
            {t('oidc.continue.button')}
          </button>
        </p>
      </form>
    </div>,
    <script dangerouslySetInnerHTML={{ __html: AUTO_SUBMIT }} />,
  );
}

/**
 * The `form_post` response mode: the answer (a code, or an error) posted to the service's
 * redirect URI, checked by the provider before it answers there. The page's policy allows its
 * script by hash; `formPostPolicy` (provider.ts) lets its form post to the service's origin.
 */
export async function renderFormPost(ctx: AppContext, k: KoaContextWithOIDC, redirectUri: string, out: Record<string, unknown>): Promise<void> {
  if (![200, 400, 500].includes(k.status)) k.status = 'error' in out ? 400 : 200;
  const locale = localeOf(ctx, k);
  const client = k.oidc.client;
  const name = client ? await serviceNameOf(ctx, client.clientId) : null;
  const service = name ? localized(name, locale) : (client?.clientName ?? client?.clientId ?? '');
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(out)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = String(value);
  }
  writeAutoPost(ctx, k, { locale, title: translate(locale, 'oidc.formPost.title'), lead: translate(locale, 'oidc.formPost.lead', { service }), action: redirectUri, fields });
}

/**
 * The sign-out confirmation (RP-initiated logout). Its form posts here and is then redirected to
 * the service's post-logout address (see `signOutPolicy`).
 */
export async function logoutSource(ctx: AppContext, k: KoaContextWithOIDC, form: string): Promise<void> {
  const locale = localeOf(ctx, k);
  const t: Translate = (key, p) => translate(locale, key, p);
  signOutPolicy(k, k.oidc.params?.['post_logout_redirect_uri']);
  write(
    ctx,
    k,
    locale,
    t('oidc.logout.title'),
    <div class="card narrow">
      <h1>{t('oidc.logout.title')}</h1>
      <p class="lead">{t('oidc.logout.lead', { institution: localized(ctx.config.institution.name, locale) })}</p>
      <div dangerouslySetInnerHTML={{ __html: form }} />
      <p class="actions">
        <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout" class="button primary">
          {t('oidc.logout.yes')}
        </button>{' '}
        <button type="submit" form="op.logoutForm" class="button secondary">
          {t('oidc.logout.no')}
        </button>
      </p>
    </div>,
  );
}

export async function postLogoutSuccessSource(ctx: AppContext, k: KoaContextWithOIDC): Promise<void> {
  const locale = localeOf(ctx, k);
  const t: Translate = (key, p) => translate(locale, key, p);
  write(
    ctx,
    k,
    locale,
    t('oidc.loggedOut.title'),
    <div class="card narrow">
      <h1>{t('oidc.loggedOut.title')}</h1>
      <p class="lead">{t('oidc.loggedOut.lead', { institution: localized(ctx.config.institution.name, locale) })}</p>
    </div>,
  );
}

/** The OAuth errors explained in the person's language; others get `oidc.error.reason.other`. */
const EXPLAINED = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_redirect_uri',
  'unauthorized_client',
  'unsupported_response_type',
  'invalid_scope',
  'access_denied',
  'login_required',
  'consent_required',
  'server_error',
]);

/** The explanation of an error: its OAuth code's, or, for an authorization the provider no longer finds (an `invalid_request`), that one's. */
function reasonKey(code: string, error: Error): string {
  if (error instanceof errors.SessionNotFound) return 'oidc.error.reason.session_not_found';
  return `oidc.error.reason.${EXPLAINED.has(code) ? code : 'other'}`;
}

/**
 * An error the provider shows the person (it could not send it back to the service safely): what
 * happened in the person's language, the error code, and the provider's own description, which
 * is English and marked so (Tessera's own reasons, such as `access.service_not_available`, are
 * translated instead; a server error's description says nothing and is left out).
 */
export async function renderProviderError(ctx: AppContext, k: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void> {
  const locale = localeOf(ctx, k);
  const t: Translate = (key, p) => translate(locale, key, p);
  const code = typeof out.error === 'string' && out.error ? out.error : 'server_error';
  const description = typeof out.error_description === 'string' ? out.error_description : '';
  const own = description && hasMessage(`error.${description}`) ? `error.${description}` : null;
  const reason = t(own ?? reasonKey(code, error));
  const detail = own || code === 'server_error' ? '' : description;
  // An error while signing out (a wrong post-logout address, an expired confirmation) is not one
  // of signing in: the title says which.
  const route = (k as { oidc?: { route?: string } }).oidc?.route;
  const title = t(route === 'end_session' || route === 'end_session_confirm' ? 'oidc.error.signOutTitle' : 'oidc.error.title');
  write(
    ctx,
    k,
    locale,
    title,
    <div class="card narrow">
      <h1>{title}</h1>
      <p class="lead" data-code={code}>
        {reason}
      </p>
      <p>{t('oidc.error.next')}</p>
      <p class="muted small">
        {t('oidc.error.code')} <code>{code}</code>
      </p>
      {detail ? (
        <p class="muted small">
          {t('oidc.error.detail')} <span lang="en">{detail}</span>
        </p>
      ) : null}
    </div>,
  );
}

/**
 * Around every request the provider answers:
 * - `?lang=` is remembered in the language cookie, as on Tessera's own pages, so the sign-in
 *   pages an authorization leads to are in that language too;
 * - the provider's self-submitting form to its sign-out step, which it writes itself with no
 *   hook to render it, is replaced by Tessera's page with the same form. It is shown to someone
 *   signing out with no session at the provider, and when an authorization resumes after
 *   someone else signed in in this browser (the previous person's session ends first).
 */
export function providerPages(ctx: AppContext) {
  return async function providerPages(k: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const asked = askedLocale(k);
    if (asked) k.cookies.set(LANG_COOKIE, asked, { signed: false, path: '/', httpOnly: true, sameSite: 'lax', maxAge: 31_536_000_000, secure: isSecure(ctx), overwrite: true });
    await next();
    const oidc = k.oidc as Oidc | undefined;
    const route = oidc?.route;
    if ((route !== 'end_session' && route !== 'resume') || written.has(k) || k.status !== 200 || !String(k.type).includes('html')) return;
    const state = oidc?.session?.state;
    const secret = state?.['secret'];
    if (typeof secret !== 'string') return;
    const locale = localeOf(ctx, k);
    const fields = { xsrf: secret, logout: 'yes' };
    const action = `${oidcRoutes.end_session}/confirm`;
    if (route === 'end_session') {
      signOutPolicy(k, state?.['postLogoutRedirectUri']);
      const institution = localized(ctx.config.institution.name, locale);
      writeAutoPost(ctx, k, { locale, title: translate(locale, 'oidc.signingOut.title'), lead: translate(locale, 'oidc.signingOut.lead', { institution }), action, fields });
    } else {
      writeAutoPost(ctx, k, { locale, title: translate(locale, 'oidc.continue.title'), lead: translate(locale, 'oidc.switching.lead'), action, fields });
    }
  };
}
