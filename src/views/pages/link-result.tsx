import { SignInLink } from '../components/done-parts.js';
import type { AppContext } from '../../app/context.js';
import { translate, type Locale } from '../../i18n/index.js';
import { renderPage } from '../layout.js';

export type LinkResult =
  | { kind: 'registration'; ok: true; username: string }
  | { kind: 'email-change'; ok: true; email: string }
  | { kind: 'registration' | 'email-change'; ok: false; code: string };

/** The page an emailed link opens: done, expired (register again) or not valid. */
export function renderLinkResult(ctx: AppContext, locale: Locale, path: string, r: LinkResult, signedIn: { username: string; logoutCsrf: string } | null): string {
  const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
  let title: string;
  let body;
  if (r.ok && r.kind === 'registration') {
    title = t('registration.verifiedTitle');
    body = (
      <>
        <p class="success" role="status">
          {t('registration.doneText', { username: r.username })}
        </p>
        <SignInLink t={t} />
      </>
    );
  } else if (r.ok && r.kind === 'email-change') {
    title = t('email-change.doneTitle');
    body = (
      <p class="success" role="status">
        {t('email-change.doneText', { email: r.email })}
      </p>
    );
  } else if (!r.ok && r.code === 'registration.link_expired' && r.kind === 'registration') {
    title = t('registration.expiredTitle');
    body = (
      <>
        <p role="alert">{t('error.registration.link_expired')}</p>
        <p>
          <a class="button primary" href="/flows/registration">
            {t('registration.registerAgain')}
          </a>
        </p>
      </>
    );
  } else if (!r.ok && r.kind === 'email-change' && (r.code === 'registration.link_expired' || r.code === 'registration.link_invalid')) {
    // Not a registration: the way on is to change the address again from the account.
    const expired = r.code === 'registration.link_expired';
    title = t(expired ? 'link.emailChange.expiredTitle' : 'link.emailChange.invalidTitle');
    body = (
      <>
        <p role="alert">{t(expired ? 'link.emailChange.expired' : 'link.emailChange.invalid')}</p>
        <p>
          <a class="button primary" href="/flows/email-change">
            {t('email-change.again')}
          </a>
        </p>
      </>
    );
  } else {
    // A short title says where the person is; the reason is said once, below it, with the way on
    // (the latest email's link may have activated the account already).
    title = t('link.invalidTitle');
    body = (
      <>
        <p role="alert">{t(`error.${(r as { code: string }).code}`)}</p>
        <SignInLink t={t} />
      </>
    );
  }
  return renderPage({
    ctx,
    locale,
    title,
    path,
    signedIn,
    children: (
      <div class="card narrow">
        <h1>{title}</h1>
        {body}
      </div>
    ),
  });
}
