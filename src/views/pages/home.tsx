import type { AppContext } from '../../app/context.js';
import { translate, type Locale } from '../../i18n/index.js';
import { renderPage } from '../layout.js';
import { RecoveryLinks } from '../components/done-parts.js';

/** The portal's front page: one card per thing a person comes to do. */
export function renderHome(ctx: AppContext, locale: Locale, path: string, signedIn: { username: string; logoutCsrf: string } | null): string {
  const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
  const pops = Object.values(ctx.config.populations);
  const hasPin = pops.some((p) => p?.activation.includes('pin'));
  const hasPassword = pops.some((p) => p?.activation.includes('password'));
  const hasRegistration = pops.some((p) => p?.activation.includes('registration'));
  return renderPage({
    ctx,
    locale,
    title: t('home.title'),
    path,
    signedIn,
    children: (
      <>
        <section class="hero">
          <h1>{t('home.title')}</h1>
          <p class="lead">{t('home.lead')}</p>
        </section>
        <div class="grid">
          <section class="card accent" aria-labelledby="h-activate">
            <h2 id="h-activate">{t('home.activate.title')}</h2>
            <p class="card-intro">{t('home.activate.intro')}</p>
            <ul class="links">
              {hasPassword ? (
                <li>
                  <a href="/flows/activation-password">{t('home.activate.password')}</a>
                  <p class="hint">{t('home.activate.passwordHelp')}</p>
                </li>
              ) : null}
              {hasPin ? (
                <li>
                  <a href="/flows/activation-pin">{t('home.activate.pin')}</a>
                  <p class="hint">{t('home.activate.pinHelp')}</p>
                </li>
              ) : null}
            </ul>
          </section>
          <section class="card" aria-labelledby="h-signin">
            <h2 id="h-signin">{t('home.signin.title')}</h2>
            <p class="card-intro">{t('home.signin.intro')}</p>
            <p>
              <a class="button primary" href={signedIn ? '/account' : '/flows/login'}>
                {signedIn ? t('layout.account') : t('home.signin.login')}
              </a>
            </p>
            <h2 id="h-recover">{t('home.recover.title')}</h2>
            <RecoveryLinks t={t} class="links" labelledBy="h-recover" />
          </section>
          {hasRegistration ? (
            <section class="card" aria-labelledby="h-register">
              <h2 id="h-register">{t('home.register.title')}</h2>
              <ul class="links">
                <li>
                  <a href="/flows/registration">{t('home.register.link')}</a>
                </li>
              </ul>
            </section>
          ) : null}
        </div>
      </>
    ),
  });
}
