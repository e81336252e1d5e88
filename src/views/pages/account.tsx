import type { Account, Person } from '../../accounts/types.js';
import type { AppContext } from '../../app/context.js';
import { translate, type Locale } from '../../i18n/index.js';
import { renderPage } from '../layout.js';

export function renderAccount(
  ctx: AppContext,
  locale: Locale,
  path: string,
  account: Account,
  person: Person | null,
  logoutCsrf: string,
): string {
  const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
  return renderPage({
    ctx,
    locale,
    title: t('account.title'),
    path,
    signedIn: { username: account.username, logoutCsrf },
    children: (
      <div class="card narrow">
        <h1>{t('account.title')}</h1>
        <dl class="facts">
          <dt>{t('account.username')}</dt>
          <dd>{account.username}</dd>
          {account.email ? (
            <>
              <dt>{t('account.email')}</dt>
              <dd>{account.email}</dd>
            </>
          ) : null}
          {person ? (
            <>
              <dt>{t('account.population')}</dt>
              <dd>{t(`population.${person.population}`)}</dd>
            </>
          ) : null}
          {person?.personalEmail && person.personalEmail !== account.email ? (
            <>
              <dt>{t('account.registeredEmail')}</dt>
              <dd>{person.personalEmail}</dd>
            </>
          ) : null}
          <dt>{t('account.status')}</dt>
          <dd>{t(`status.${account.status}`)}</dd>
        </dl>
        <ul class="links">
          {account.federatedOnly ? null : (
            <li>
              <a href="/flows/password-change">{t('account.changePassword')}</a>
            </li>
          )}
          {account.federatedOnly ? null : (
            <li>
              <a href="/flows/email-change">{t('account.changeEmail')}</a>
            </li>
          )}
        </ul>
      </div>
    ),
  });
}
