import { RecoveryLinks, SignInLink } from './components/done-parts.js';
import type { AppContext } from '../app/context.js';
import type { FlowView } from '../flows/kernel/service.js';
import { registerFlowView } from './flow-views.js';

type T = (k: string, p?: Record<string, string | number>) => string;

function Helpdesk(props: { t: T; ctx: AppContext }) {
  const mail = props.ctx.config.institution.helpdeskEmail;
  return <p class="hint">{props.t('recovery.helpdesk', { helpdesk: mail ?? '—' })}</p>;
}

const hasError = (view: FlowView, code: string) => view.messages.some((m) => m.code === code);

/** Intros and done pages of registration, username recovery, password reset and email change. */
export function registerRecoveryViews(): void {
  registerFlowView('registration', {
    intro: (view, t) => {
      if (view.state === 'awaiting_details') {
        return hasError(view, 'registration.email_registered') ? <RecoveryLinks t={t} class="links" first="username" /> : null;
      }
      if (view.data.voided) {
        return (
          <p>
            <a class="button primary" href="/flows/registration">
              {t('registration.registerAgain')}
            </a>
          </p>
        );
      }
      const d = view.data as { email?: string; linkLifetimeHours?: number; resentTo?: string; linkWorksUntil?: string };
      return (
        <>
          {d.resentTo ? (
            <p class="success" role="status">
              {t('registration.resent', { email: d.resentTo })}
            </p>
          ) : null}
          <p>{d.linkWorksUntil ? t('registration.sentToUntil', { email: d.email ?? '', until: d.linkWorksUntil }) : t('registration.sentTo', { email: d.email ?? '', hours: d.linkLifetimeHours ?? 24 })}</p>
          <p class="hint">{t('registration.notReceived')}</p>
        </>
      );
    },
    done: (view, t) => (
      <>
        <p class="success" role="status">
          {t('registration.doneText', { username: String(view.result?.username ?? '') })}
        </p>
        <SignInLink t={t} />
      </>
    ),
  });
  registerFlowView('username-recovery', {
    intro: (_view, t, ctx) => <Helpdesk t={t} ctx={ctx} />,
    done: (_view, t, ctx) => (
      <>
        <p class="success" role="status">
          {t('username-recovery.doneText')}
        </p>
        <Helpdesk t={t} ctx={ctx} />
        <SignInLink t={t} />
      </>
    ),
  });
  registerFlowView('password-reset', {
    // The code page's lead says where the code went and for how many minutes it is valid.
    intro: (view, t, ctx) =>
      view.state === 'awaiting_code' ? (
        <Helpdesk t={t} ctx={ctx} />
      ) : view.state === 'awaiting_identifier' ? (
        <p class="hint">
          <a href="/flows/username-recovery">{t('home.recover.username')}</a>
        </p>
      ) : null,
    done: (view, t) => (
      <>
        <p class="success" role="status">
          {t('password-reset.doneText', { username: String(view.result?.username ?? '') })}
        </p>
        <SignInLink t={t} />
      </>
    ),
  });
  registerFlowView('email-change', {
    intro: (view, t) =>
      view.state === 'awaiting_confirmation' ? <p role="status">{t('email-change.sentTo', { email: String(view.data.email ?? ''), hours: Number(view.data.linkLifetimeHours ?? 24) })}</p> : null,
    done: (view, t) => (
      <>
        <p class="success" role="status">
          {t('email-change.doneText', { email: String(view.result?.email ?? '') })}
        </p>
        <p>
          <a class="button primary" href="/account">
            {t('layout.account')}
          </a>
        </p>
      </>
    ),
  });
}
