import type { AppContext } from '../../app/context.js';
import { formatTime } from '../../auth/credentials.js';
import type { FlowMessage } from '../../flows/kernel/types.js';
import { translate, type Locale } from '../../i18n/index.js';
import type { PendingRequestView } from '../../mailboxes/referent-service.js';
import { ErrorSummary } from '../components/flow-form.js';
import { renderPage } from '../layout.js';

export interface ReferentPageInput {
  ctx: AppContext;
  locale: Locale;
  path: string;
  signedIn: { username: string; logoutCsrf: string };
  requests: PendingRequestView[];
  csrf: string;
  /** The outcome of the decision just taken, already translated. */
  notice: string | null;
  errors: FlowMessage[];
}

/**
 * The referent's list of pending mailbox requests, each with an approve and a reject form, and the
 * form that sends a colleague of their office a mailbox activation link.
 */
export function renderReferentRequests(p: ReferentPageInput): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title: t('referent.title'),
    path: p.path,
    signedIn: p.signedIn,
    children: (
      <div class="card">
        <h1>{t('referent.title')}</h1>
        <p class="lead">{t('referent.lead')}</p>
        {p.notice ? (
          <p class="success" role="status">
            {p.notice}
          </p>
        ) : null}
        <ErrorSummary messages={p.errors} t={t} />
        {p.requests.length === 0 ? <p>{t('referent.empty')}</p> : null}
        {p.requests.map((r) => {
          const commentId = `comment-${r.id}`;
          return (
            <section class="request" aria-labelledby={`req-${r.id}`}>
              <h2 id={`req-${r.id}`}>{`${r.givenName} ${r.familyName}`}</h2>
              <dl class="facts">
                <dt>{t('referent.requester')}</dt>
                <dd>{r.username}</dd>
                <dt>{t('referent.office')}</dt>
                <dd>{r.orgUnitName ? `${r.orgUnitName} (${r.orgUnit})` : (r.orgUnit ?? '—')}</dd>
                <dt>{t('referent.requestedAt')}</dt>
                <dd>{formatTime(new Date(r.createdAt), p.locale, p.ctx.config.institution.timeZone)}</dd>
                {r.note ? (
                  <>
                    <dt>{t('referent.note')}</dt>
                    <dd>{r.note}</dd>
                  </>
                ) : null}
              </dl>
              <div class="actions">
                <form method="post" action={`/referent/requests/${r.id}/approve`}>
                  <input type="hidden" name="_csrf" value={p.csrf} />
                  <button type="submit" class="button primary">
                    {t('referent.approve')}
                  </button>
                </form>
                <form method="post" action={`/referent/requests/${r.id}/reject`}>
                  <input type="hidden" name="_csrf" value={p.csrf} />
                  <div class="field">
                    <label for={commentId}>{t('referent.comment')}</label>
                    <textarea id={commentId} name="comment" maxLength={1000} rows={2}></textarea>
                  </div>
                  <button type="submit" class="button secondary">
                    {t('referent.reject')}
                  </button>
                </form>
              </div>
            </section>
          );
        })}
        <section class="request" aria-labelledby="send-link">
          <h2 id="send-link">{t('referent.linkTitle')}</h2>
          <p class="hint" id="send-link-hint">
            {t('referent.linkLead')}
          </p>
          <form method="post" action="/referent/mailbox-link">
            <input type="hidden" name="_csrf" value={p.csrf} />
            <div class="field">
              <label for="f-username">{t('field.username')}</label>
              <input id="f-username" name="username" type="text" required maxLength={200} autoComplete="off" aria-describedby="send-link-hint" />
            </div>
            <button type="submit" class="button secondary">
              {t('referent.linkSend')}
            </button>
          </form>
        </section>
      </div>
    ),
  });
}
