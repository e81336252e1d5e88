import type { Account, Person } from '../../accounts/types.js';
import type { AppContext } from '../../app/context.js';
import { calendarDate, datePhrase } from '../../i18n/dates.js';
import { translate, type Locale } from '../../i18n/index.js';
import type { AllowedService } from '../../oidc/consents.js';
import { EmailAddress } from '../components/email-address.js';
import { localized } from '../localized.js';
import { renderPage } from '../layout.js';

export function renderAccount(
  ctx: AppContext,
  locale: Locale,
  path: string,
  account: Account,
  person: Person | null,
  logoutCsrf: string,
  /** The person's mailbox request waiting for a referent, if any: said instead of offering a new one. */
  pendingMailboxRequest: { createdAt: string; flowId: string | null } | null = null,
  /** The services the person allowed (not first-party ones), with the token of the withdraw forms. */
  consents: { list: AllowedService[]; csrf: string } | null = null,
): string {
  const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
  // External users have no institutional mailbox: their account's address is the one they
  // registered (as is anyone's whose account uses their personal address).
  const personalAddress =
    person?.population === 'external' || (!!account.email && account.email.toLowerCase() === person?.personalEmail?.toLowerCase());
  return renderPage({
    ctx,
    locale,
    title: t('account.title'),
    path,
    signedIn: { username: account.username, logoutCsrf },
    children: (
      <div class="card narrow">
        <h1>{t('account.title')}</h1>
        {person ? <p class="lead">{`${person.givenName} ${person.familyName}`}</p> : null}
        <dl class="facts">
          <dt>{t('account.username')}</dt>
          <dd>{account.username}</dd>
          {account.email ? (
            <>
              <dt>{t(personalAddress ? 'account.registeredEmail' : 'account.email')}</dt>
              <dd class="address">
                <EmailAddress email={account.email} />
              </dd>
            </>
          ) : null}
          {person ? (
            <>
              <dt>{t('account.population')}</dt>
              <dd>{t(`population.${person.population}`)}</dd>
            </>
          ) : null}
          {person?.personalEmail && person.personalEmail.toLowerCase() !== account.email?.toLowerCase() ? (
            <>
              <dt>{t('account.registeredEmail')}</dt>
              <dd>{person.personalEmail}</dd>
            </>
          ) : null}
          <dt>{t('account.status')}</dt>
          <dd>{t(`status.${account.status}`)}</dd>
          {pendingMailboxRequest ? (
            <>
              <dt>{t('account.mailbox')}</dt>
              <dd>
                {t('account.mailboxPending', { onDate: datePhrase(calendarDate(new Date(pendingMailboxRequest.createdAt), ctx.config.institution.timeZone), locale, 'on') })}
                {pendingMailboxRequest.flowId ? (
                  <>
                    {' '}
                    <a href={`/flows/mailbox-request/${pendingMailboxRequest.flowId}`}>{t('account.mailboxPendingLink')}</a>
                  </>
                ) : null}
              </dd>
            </>
          ) : null}
        </dl>
        <h2 id="h-actions">{t('account.actions')}</h2>
        <ul class="links" aria-labelledby="h-actions">
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
          {!account.email && !pendingMailboxRequest && (person?.population === 'staff' || person?.population === 'school_staff') ? (
            <li>
              <a href="/flows/mailbox-request">{t('account.requestMailbox')}</a>
            </li>
          ) : null}
          {account.roles.includes('referent') ? (
            <li>
              <a href="/referent/requests">{t('referent.link')}</a>
            </li>
          ) : null}
        </ul>
        {consents && consents.list.length > 0 ? (
          <>
            <h2 id="h-consents">{t('account.consents')}</h2>
            <p>{t('account.consentsLead')}</p>
            <ul class="consents" aria-labelledby="h-consents">
              {consents.list.map((c) => {
                const name = localized(c.name, locale);
                const scopes = c.scopes.filter((sc) => sc !== 'openid').map((sc) => translate(locale, `oidc.scope.${sc}`));
                return (
                  <li>
                    <strong>{name}</strong>
                    <span class="consent-what">
                      {t('account.consentSince', {
                        onDate: datePhrase(calendarDate(new Date(c.grantedAt), ctx.config.institution.timeZone), locale, 'on'),
                        scopes: (scopes.length ? scopes : [translate(locale, 'oidc.scope.openid')]).join(', '),
                      })}
                    </span>
                    <form method="post" action="/account/consents">
                      <input type="hidden" name="_csrf" value={consents.csrf} />
                      <input type="hidden" name="service" value={c.service} />
                      <button type="submit" class="button secondary" aria-label={t('account.withdrawFor', { service: name })}>
                        {t('account.withdraw')}
                      </button>
                    </form>
                  </li>
                );
              })}
            </ul>
          </>
        ) : null}
      </div>
    ),
  });
}
