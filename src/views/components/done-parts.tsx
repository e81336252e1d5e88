import { EmailAddress } from './email-address.js';

type T = (k: string, p?: Record<string, string | number>) => string;

/** The button that ends every activation or confirmation page: go and sign in. */
export function SignInLink(props: { t: T }) {
  return (
    <p>
      <a class="button primary" href="/flows/login">
        {props.t('home.signin.login')}
      </a>
    </p>
  );
}

/** The username and (when there is one) the institutional address, as the person should note them. */
export function AccountFacts(props: { t: T; username: string; email: string | null }) {
  const { t } = props;
  return (
    <dl class="facts">
      <dt>{t('account.username')}</dt>
      <dd>{props.username}</dd>
      {props.email ? (
        <>
          <dt>{t('account.email')}</dt>
          <dd class="address">
            <EmailAddress email={props.email} />
          </dd>
        </>
      ) : null}
    </dl>
  );
}
