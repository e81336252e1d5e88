import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import type { AppContext } from '../app/context.js';
import { LANG_COOKIE } from '../app/request-context.js';
import { isLocale, negotiateLocale, translate, type Locale } from '../i18n/index.js';
import { renderPage } from '../views/layout.js';
import { localized } from '../views/localized.js';

/** The language of a request reaching the provider: the language cookie, then Accept-Language. */
function localeOf(ctx: AppContext, k: KoaContextWithOIDC): Locale {
  const c = k.cookies.get(LANG_COOKIE, { signed: false });
  return isLocale(c) ? c : negotiateLocale(k.get('accept-language') || undefined, ctx.config.institution.defaultLocale);
}

const originOf = (uri: unknown): string | null => {
  try {
    return typeof uri === 'string' ? new URL(uri).origin : null;
  } catch {
    return null;
  }
};

/**
 * The sign-out confirmation (RP-initiated logout). Its form posts here and is then redirected to
 * the service's post-logout address; browsers apply `form-action` to that redirect too, so this
 * page's policy also names the origin of that (already validated) address.
 */
export async function logoutSource(ctx: AppContext, k: KoaContextWithOIDC, form: string): Promise<void> {
  const locale = localeOf(ctx, k);
  const t = (key: string, p?: Record<string, string>) => translate(locale, key, p);
  const target = originOf(k.oidc.params?.post_logout_redirect_uri);
  k.set(
    'content-security-policy',
    `default-src 'none';style-src 'self';img-src 'self' data:;font-src 'self';form-action 'self'${target ? ` ${target}` : ''};frame-ancestors 'none';base-uri 'none'`,
  );
  k.type = 'html';
  k.body = renderPage({
    ctx,
    locale,
    title: t('oidc.logout.title'),
    path: k.path,
    children: (
      <div class="card narrow">
        <h1>{t('oidc.logout.title')}</h1>
        <p class="lead">{t('oidc.logout.lead', { institution: localized(ctx.config.institution.name, locale) })}</p>
        <div dangerouslySetInnerHTML={{ __html: form }} />
        <p class="actions">
          <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout" class="button primary">
            {t('oidc.logout.yes')}
          </button>{' '}
          <button type="submit" form="op.logoutForm" class="button">
            {t('oidc.logout.no')}
          </button>
        </p>
      </div>
    ),
  });
}

export async function postLogoutSuccessSource(ctx: AppContext, k: KoaContextWithOIDC): Promise<void> {
  const locale = localeOf(ctx, k);
  const t = (key: string, p?: Record<string, string>) => translate(locale, key, p);
  k.type = 'html';
  k.body = renderPage({
    ctx,
    locale,
    title: t('oidc.loggedOut.title'),
    path: k.path,
    children: (
      <div class="card narrow">
        <h1>{t('oidc.loggedOut.title')}</h1>
        <p class="lead">{t('oidc.loggedOut.lead', { institution: localized(ctx.config.institution.name, locale) })}</p>
      </div>
    ),
  });
}

/** An error the provider shows the person (it could not send it back to the service safely). */
export async function renderProviderError(ctx: AppContext, k: KoaContextWithOIDC, out: ErrorOut, _error: Error): Promise<void> {
  const locale = localeOf(ctx, k);
  const t = (key: string, p?: Record<string, string>) => translate(locale, key, p);
  k.type = 'html';
  k.body = renderPage({
    ctx,
    locale,
    title: t('oidc.error.title'),
    path: k.path,
    children: (
      <div class="card narrow">
        <h1>{t('oidc.error.title')}</h1>
        <p class="lead">{t('oidc.error.lead', { error: String(out.error ?? 'server_error') })}</p>
        {out.error_description ? <p class="muted small">{String(out.error_description)}</p> : null}
      </div>
    ),
  });
}
