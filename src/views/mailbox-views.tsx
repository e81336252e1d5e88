import { registerFlowView } from './flow-views.js';

/** The pages of the mailbox-request flow: an intro per population and the outcome. */
export function registerMailboxViews(): void {
  registerFlowView('mailbox-request', {
    intro: (view, t) => {
      if (view.state !== 'awaiting_details') return null;
      const d = view.data as { population?: string; office?: string };
      return <p>{d.population === 'staff' ? t('mailbox-request.staffIntro', { office: d.office ?? '—' }) : t('mailbox-request.schoolIntro')}</p>;
    },
    done: (view, t) => {
      const r = view.result as { address: string | null; status: string };
      const key =
        r.status === 'active' ? 'mailbox-request.doneActive' : r.status === 'approved' ? 'mailbox-request.doneApproved' : r.status === 'rejected' ? 'mailbox-request.doneRejected' : 'mailbox-request.doneExpired';
      return (
        <>
          <p class={r.status === 'active' || r.status === 'approved' ? 'success' : ''} role="status">
            {t(key, { address: r.address ?? '' })}
          </p>
          <p>
            <a class="button primary" href="/account">
              {t('layout.account')}
            </a>
          </p>
        </>
      );
    },
  });
}
