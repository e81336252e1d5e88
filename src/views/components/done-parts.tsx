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

/**
 * Where a forgotten password or username is recovered (home page, sign-in page, a registration
 * whose address already has an account). `first` puts the link that helps most first; `passwordKey`
 * is its wording on that page.
 */
export function RecoveryLinks(props: { t: T; class: string; first?: 'password' | 'username'; passwordKey?: string; labelledBy?: string }) {
  const { t } = props;
  const password = (
    <li>
      <a href="/flows/password-reset">{t(props.passwordKey ?? 'home.recover.password')}</a>
    </li>
  );
  const username = (
    <li>
      <a href="/flows/username-recovery">{t('home.recover.username')}</a>
    </li>
  );
  return (
    <ul class={props.class} aria-labelledby={props.labelledBy}>
      {props.first === 'username' ? [username, password] : [password, username]}
    </ul>
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
