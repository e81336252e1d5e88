import type { AppContext } from '../app/context.js';
import { translate, type Locale } from '../i18n/index.js';
import { renderPage } from '../views/layout.js';

interface Base {
  ctx: AppContext;
  locale: Locale;
  path: string;
  service: string;
}

/**
 * "Taking you back to the service": reached after a form (sign-in or consent) was posted. It
 * moves on with a meta refresh, not a redirect, because browsers check `form-action 'self'`
 * against every redirect that follows a form submission, and the last one leaves for the
 * service's site. A meta refresh is a new navigation, so the site keeps `form-action 'self'`.
 */
export function renderContinuePage(p: Base & { next: string }): string {
  const t = (k: string, v?: Record<string, string>) => translate(p.locale, k, v);
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title: t('oidc.continue.title'),
    path: p.path,
    head: <meta http-equiv="refresh" content={`0;url=${p.next}`} />,
    children: (
      <div class="card narrow">
        <h1>{t('oidc.continue.title')}</h1>
        <p class="lead">{t('oidc.continue.lead', { service: p.service })}</p>
        <p>
          <a class="button primary" href={p.next} id="continue">
            {t('oidc.continue.button')}
          </a>
        </p>
      </div>
    ),
  });
}

/** The consent page of a service that is not first-party. */
export function renderConsentPage(p: Base & { scopes: string[]; action: string; csrf: string }): string {
  const t = (k: string, v?: Record<string, string>) => translate(p.locale, k, v);
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title: t('oidc.consent.title'),
    path: p.path,
    children: (
      <div class="card narrow">
        <h1>{t('oidc.consent.title')}</h1>
        <p class="lead">{t('oidc.consent.lead', { service: p.service })}</p>
        <ul>
          {p.scopes.map((s) => (
            <li>{t(`oidc.scope.${s}`)}</li>
          ))}
        </ul>
        <form method="post" action={p.action}>
          <input type="hidden" name="_csrf" value={p.csrf} />
          <p class="actions">
            <button type="submit" name="action" value="allow" class="button primary">
              {t('oidc.consent.allow')}
            </button>{' '}
            <button type="submit" name="action" value="deny" class="button secondary">
              {t('oidc.consent.deny')}
            </button>
          </p>
        </form>
      </div>
    ),
  });
}

/** A person whose population the service does not admit; the link returns `access_denied` to it. */
export function renderRefusedPage(p: Base & { population: string | null; back: string }): string {
  const t = (k: string, v?: Record<string, string>) => translate(p.locale, k, v);
  const message = p.population === 'external' ? t('error.access.service_not_available.external') : t('error.access.service_not_available');
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title: t('oidc.refused.title'),
    path: p.path,
    children: (
      <div class="card narrow">
        <h1>{t('oidc.refused.title')}</h1>
        <p class="lead" data-code="access.service_not_available">
          {message}
        </p>
        <p>
          <a class="button secondary" href={p.back}>
            {t('oidc.refused.back', { service: p.service })}
          </a>
        </p>
      </div>
    ),
  });
}
