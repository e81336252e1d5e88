import { registerFlowView } from './flow-views.js';
import { SpidButton } from './components/spid-button.js';
import { registerSpidAlignmentView } from './spid-alignment-view.js';

/** Completed pages and intros of each flow. A new flow with its own page adds a block here. */
export function registerFlowViews(): void {
  registerSpidAlignmentView();
  registerFlowView('activation-password', {
    done: (view, t) => {
      const r = view.result as { username: string; email: string | null };
      return (
        <>
          <p class="success" role="status">
            {r.email ? t('activation-password.doneText', { email: r.email }) : t('activation-password.doneTextNoMail', { username: r.username })}
          </p>
          <dl class="facts">
            <dt>{t('account.username')}</dt>
            <dd>{r.username}</dd>
            {r.email ? (
              <>
                <dt>{t('account.email')}</dt>
                <dd>{r.email}</dd>
              </>
            ) : null}
          </dl>
          <p>
            <a class="button primary" href="/flows/login">
              {t('home.signin.login')}
            </a>
          </p>
        </>
      );
    },
  });
  registerFlowView('password-change', {
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
  registerFlowView('login', {
    intro: (view, t, ctx) => <SpidButton ctx={ctx} t={t} returnTo={view.data.returnTo as string | undefined} />,
    done: (view, t) => (
      <p>
        <a class="button primary" href="/account">
          {t('layout.account')}
        </a>
      </p>
    ),
  });
}
