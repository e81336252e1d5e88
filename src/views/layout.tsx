import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { AppContext } from '../app/context.js';
import { locales, translate, type Locale } from '../i18n/index.js';
import { localized } from './localized.js';

export interface PageOptions {
  ctx: AppContext;
  locale: Locale;
  title: string;
  /** The request path, used by the language switcher. */
  path: string;
  signedIn?: { username: string; logoutCsrf: string } | null;
  /** Extra elements of <head> (e.g. a meta refresh). */
  head?: ComponentChildren;
  children: ComponentChildren;
}

function withLang(path: string, lang: Locale): string {
  const url = new URL(path, 'http://x');
  url.searchParams.set('lang', lang);
  // A path such as `/a/..//host` resolves to `//host`, which a link would read as another site.
  return `${url.pathname.replace(/^\/+/, '/')}${url.search}`;
}

/** Which main link, if any, the page belongs to (marked for assistive technology and styled). */
function currentSection(path: string): 'home' | 'account' | 'login' | null {
  const pathname = new URL(path, 'http://x').pathname;
  if (pathname === '/') return 'home';
  if (pathname === '/account') return 'account';
  if (pathname === '/flows/login' || pathname.startsWith('/flows/login/')) return 'login';
  return null;
}

function Layout(p: PageOptions) {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  const inst = p.ctx.config.institution;
  const name = localized(inst.name, p.locale);
  const current = currentSection(p.path);
  return (
    <html lang={p.locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${p.title} · ${name}`}</title>
        <link rel="stylesheet" href="/assets/tessera.css" />
        <link rel="stylesheet" href="/assets/theme.css" />
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
        {p.head}
      </head>
      <body>
        <a class="skip" href="#main">
          {t('layout.skip')}
        </a>
        <header class="site-header">
          <div class="wrap header-row">
            <a class="brand" href="/">
              {inst.branding.logoUrl ? <img src={inst.branding.logoUrl} alt="" class="brand-logo" /> : <span class="brand-mark" aria-hidden="true">{(inst.shortName ?? name).slice(0, 1)}</span>}
              <span class="brand-name">{name}</span>
            </a>
            <nav aria-label={t('lang.choose')} class="lang">
              <ul>
                {locales.map((l) => (
                  <li>
                    {l === p.locale ? (
                      <span aria-current="true" lang={l}>
                        {translate(l, 'lang.name')}
                      </span>
                    ) : (
                      <a href={withLang(p.path, l)} lang={l} hrefLang={l}>
                        {translate(l, 'lang.name')}
                      </a>
                    )}
                  </li>
                ))}
              </ul>
            </nav>
          </div>
          <div class="wrap header-row nav-row">
            <nav aria-label={t('layout.mainNav')} class="main-nav">
              <a href="/" aria-current={current === 'home' ? 'page' : undefined}>
                {t('layout.home')}
              </a>
              {p.signedIn ? (
                <a href="/account" aria-current={current === 'account' ? 'page' : undefined}>
                  {t('layout.account')}
                </a>
              ) : (
                <a href="/flows/login" aria-current={current === 'login' ? 'page' : undefined}>
                  {t('layout.login')}
                </a>
              )}
            </nav>
            {p.signedIn ? (
              <form method="post" action="/logout" class="logout">
                <input type="hidden" name="_csrf" value={p.signedIn.logoutCsrf} />
                <span class="signed-in">{t('account.signedInAs', { username: p.signedIn.username })}</span>
                <button type="submit" class="button-link">
                  {t('layout.logout')}
                </button>
              </form>
            ) : null}
          </div>
        </header>
        <main id="main" class="wrap" tabIndex={-1}>
          {p.children}
        </main>
        <footer class="site-footer">
          <div class="wrap">
            <p>{t('layout.footer', { institution: name, helpdesk: inst.helpdeskEmail ?? '—' })}</p>
            <p class="muted">{t('layout.poweredBy')}</p>
          </div>
        </footer>
      </body>
    </html>
  );
}

/** A whole HTML page. */
export function renderPage(opts: PageOptions): string {
  return `<!doctype html>${renderToString(<Layout {...opts} />)}`;
}
