import { AccountFacts, RecoveryLinks, SignInLink } from './components/done-parts.js';
import { activationPinViews } from '../flows/activation-pin/views.js';
import { registerFlowView } from './flow-views.js';
import { registerMailboxViews } from './mailbox-views.js';
import { registerRecoveryViews } from './recovery-views.js';
import { SpidButton } from './components/spid-button.js';
import { registerSpidAlignmentView } from './spid-alignment-view.js';

/** Completed pages and intros of each flow. A new flow with its own page adds a block here. */
export function registerFlowViews(): void {
  registerMailboxViews();
  registerSpidAlignmentView();
  registerFlowView('activation-password', {
    submitLabel: () => 'activation-password.submit',
    done: (view, t) => {
      const r = view.result as { username: string; email: string | null };
      return (
        <>
          <p class="success" role="status">
            {r.email ? t('activation-password.doneText', { email: r.email }) : t('activation-password.doneTextNoMail', { username: r.username })}
          </p>
          <AccountFacts t={t} username={r.username} email={r.email} />
          <SignInLink t={t} />
        </>
      );
    },
  });
  registerFlowView('activation-pin', activationPinViews);
  registerFlowView('password-change', {
    submitLabel: () => 'password-change.submit',
    done: (_view, t) => (
      <>
        <p class="success" role="status">
          {t('password-change.doneText')}
        </p>
        <p>
          <a class="button primary" href="/account">
            {t('layout.account')}
          </a>
        </p>
      </>
    ),
  });
  registerRecoveryViews();
  registerFlowView('login', {
    intro: (view, t, ctx) => (
      <>
        {typeof view.data.verificationResentTo === 'string' ? (
          <p class="success" role="status">
            {t('login.verificationResent', { email: view.data.verificationResentTo })}
          </p>
        ) : typeof view.data.verificationEmail === 'string' ? (
          <p>{t('login.verificationSentTo', { email: view.data.verificationEmail })}</p>
        ) : typeof view.data.service === 'string' ? (
          <p class="lead" id="signing-in-to">
            {t('login.forService', { service: view.data.service })}
          </p>
        ) : null}
        <SpidButton ctx={ctx} t={t} returnTo={view.data.returnTo as string | undefined} />
      </>
    ),
    submitLabel: () => 'login.submit',
    // Where a forgotten password or username is recovered, also on a service's sign-in page.
    outro: (_view, t) => <RecoveryLinks t={t} class="login-help" passwordKey="login.forgot" />,
    done: (view, t) => (
      <p>
        <a class="button primary" href="/account">
          {t('layout.account')}
        </a>
      </p>
    ),
  });
}
