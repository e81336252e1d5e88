import { SignInLink, AccountFacts } from '../../views/components/done-parts.js';
import type { VNode } from 'preact';
import type { FlowView } from '../kernel/service.js';
import type { FlowPageHooks } from '../../views/flow-views.js';
import type { RecordSummary } from './record-summary.js';

type T = (k: string, p?: Record<string, string | number>) => string;

function pinIntro(view: FlowView, t: T): VNode {
  const destinations = (view.data.destinations as string[] | undefined) ?? [];
  return (
    <div class="intro">
      {view.data.resent ? (
        <p class="success" role="status">
          {t('activation-pin.resent')}
        </p>
      ) : null}
      {destinations.length > 0 ? (
        <>
          <p>{t('activation-pin.sentTo')}</p>
          <ul>
            {destinations.map((d) => {
              const [channel, where] = [d.slice(0, d.indexOf(':')), d.slice(d.indexOf(':') + 1)];
              return (
                <li>
                  {channel === 'sms' ? t('field.mobile') : t('field.email')}: <span class="nowrap">{where}</span>
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
      <p class="muted small">{t('activation-pin.noPinHelp')}</p>
    </div>
  );
}

/** YYYY-MM-DD as DD/MM/YYYY, the order used in Italy and Greece. */
const dayFirst = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** The data on file the person checks before certifying them (identifiers and contacts masked). */
function recordOnFile(person: RecordSummary, t: T): VNode {
  const rows: Array<[string, string]> = [[t('activation-pin.record.name'), `${person.givenName} ${person.familyName}`.trim()]];
  if (person.birthDate) rows.push([t('activation-pin.record.birthDate'), dayFirst(person.birthDate)]);
  rows.push([t('activation-pin.record.population'), t(`population.${person.population}`)]);
  if (person.orgUnit) rows.push([t('activation-pin.record.orgUnit'), person.orgUnit.name ?? person.orgUnit.code]);
  if (person.amka) rows.push([t('activation-pin.record.amka'), person.amka]);
  if (person.taxCode) rows.push([t('activation-pin.record.taxCode'), person.taxCode]);
  if (person.insurance) rows.push([t('activation-pin.record.insurance'), `${person.insurance.country} ${person.insurance.number}`]);
  if (person.mobile) rows.push([t('activation-pin.record.mobile'), person.mobile]);
  if (person.email) rows.push([t('activation-pin.record.email'), person.email]);
  return (
    <>
      <h2>{t('activation-pin.dataOnFile')}</h2>
      <dl class="facts">
        {rows.map(([label, value]) => (
          <>
            <dt>{label}</dt>
            <dd>
              <span class="nowrap">{value}</span>
            </dd>
          </>
        ))}
      </dl>
      <p class="muted small">{t('activation-pin.checkData')}</p>
    </>
  );
}

function consentIntro(view: FlowView, t: T): VNode {
  const consents = (view.data.consents as Array<{ id: string }> | undefined) ?? [];
  const person = view.data.person as RecordSummary | undefined;
  return (
    <div class="intro">
      <p class="username-box">
        {t('activation-pin.usernameLabel')}: <strong>{String(view.data.username ?? '')}</strong>
      </p>
      <p>{t('activation-pin.noteUsername')}</p>
      {person ? recordOnFile(person, t) : null}
      {typeof view.data.instructions === 'string' ? (
        <>
          <h2>{t('activation-pin.instructions')}</h2>
          <p>{view.data.instructions}</p>
        </>
      ) : null}
      {consents.length > 0 ? <h2>{t('activation-pin.privacyChoices')}</h2> : null}
    </div>
  );
}

function passwordIntro(view: FlowView, t: T): VNode {
  return (
    <div class="intro">
      <p>
        {t('activation-pin.usernameLabel')}: <strong>{String(view.data.username ?? '')}</strong>
      </p>
      <details>
        <summary>{t('activation-pin.passwordSafety')}</summary>
        <p>{t('activation-pin.passwordSafetyText')}</p>
      </details>
    </div>
  );
}

/** The activation-pin pages beyond the generic form: what was sent where, the username, the result. */
export const activationPinViews: FlowPageHooks = {
  intro: (view, t) => {
    switch (view.state) {
      case 'awaiting_contact':
        // An account already in use: the way forward is signing in or recovering the password.
        return view.messages.some((m) => m.code === 'activation.already_active') ? (
          <p class="intro">
            <a href="/flows/login">{t('home.signin.login')}</a> · <a href="/flows/password-reset">{t('home.recover.password')}</a>
          </p>
        ) : null;
      case 'awaiting_pin':
        return pinIntro(view, t);
      case 'awaiting_national_id':
        return view.data.mode === 'insurance' ? <p class="intro">{t('activation-pin.insuranceLead')}</p> : null;
      case 'awaiting_consent':
        return consentIntro(view, t);
      case 'awaiting_password':
        return passwordIntro(view, t);
      default:
        return null;
    }
  },
  submitLabel: (view) => (view.state === 'awaiting_consent' ? 'activation-pin.agree' : undefined),
  done: (view, t) => {
    const r = view.result as { username: string; email: string | null };
    return (
      <>
        <p class="success" role="status">
          {t('activation-pin.doneText')}
        </p>
        <AccountFacts t={t} username={r.username} email={r.email} />
        <SignInLink t={t} />
      </>
    );
  },
};
