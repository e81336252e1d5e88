import type { AppContext } from '../../app/context.js';
import { formatTime } from '../../auth/credentials.js';
import type { FieldSpec, FlowMessage } from '../../flows/kernel/types.js';
import { translate, type Locale } from '../../i18n/index.js';
import type { PendingRequestView } from '../../mailboxes/referent-service.js';
import { ErrorSummary, FieldError } from '../components/flow-form.js';
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

/** The field of a request's reason to reject it: the form control is `f-comment-<request id>`. */
export const commentField = (requestId: string): string => `comment-${requestId}`;

/**
 * The referent's list of pending mailbox requests, each with an approve and a reject form, and the
 * form that sends a colleague of their office a mailbox activation link.
 */
export function renderReferentRequests(p: ReferentPageInput): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  // The page's fields, named in the error summary as "Reason to reject the request of <name>".
  const fields: FieldSpec[] = [
    ...p.requests.map((r): FieldSpec => ({ name: commentField(r.id), type: 'text', required: false, labelText: t('referent.commentOf', { name: `${r.givenName} ${r.familyName}` }) })),
    { name: 'username', type: 'text', required: true },
  ];
  const known = new Set(fields.map((f) => f.name));
  // An error of a field the page no longer shows (its request was decided meanwhile) is said as it is.
  const errors = p.errors.map((m) => (m.field && !known.has(m.field) ? { code: m.code, text: m.text } : m));
  const errorsOf = (field: string) => errors.filter((m) => m.field === field);
  // A field's errors beside it, in its description, and the field marked invalid.
  const errorParts = (field: string, describedBy: string[] = []) => {
    const mine = errorsOf(field);
    const ids = mine.map((_, i) => `f-${field}-err${i}`);
    return {
      invalid: mine.length > 0 ? ('true' as const) : undefined,
      describedBy: [...describedBy, ...ids].join(' ') || undefined,
      shown: mine.map((m, i) => <FieldError id={ids[i]!} text={m.text} t={t} />),
    };
  };
  const usernameErrors = errorParts('username', ['send-link-hint']);
  const title = t('referent.title');
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    // Screen readers announce the title first: a page back with errors says so there.
    title: errors.length > 0 ? t('form.errorTitle', { title }) : title,
    path: p.path,
    signedIn: p.signedIn,
    children: (
      <div class="card">
        <h1>{title}</h1>
        <p class="lead">{t('referent.lead')}</p>
        {p.notice ? (
          <p class="success" role="status">
            {p.notice}
          </p>
        ) : null}
        <ErrorSummary messages={errors} t={t} fields={fields} />
        {p.requests.length === 0 ? <p>{t('referent.empty')}</p> : null}
        {p.requests.map((r) => {
          const comment = commentField(r.id);
          const commentId = `f-${comment}`;
          const commentErrors = errorParts(comment);
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
                  <div class={`field${commentErrors.invalid ? ' has-error' : ''}`}>
                    <label for={commentId}>{t('referent.comment')}</label>
                    {commentErrors.shown}
                    <textarea id={commentId} name="comment" maxLength={1000} rows={2} aria-invalid={commentErrors.invalid} aria-describedby={commentErrors.describedBy}></textarea>
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
            <div class={`field${usernameErrors.invalid ? ' has-error' : ''}`}>
              <label for="f-username">{t('field.username')}</label>
              {usernameErrors.shown}
              <input id="f-username" name="username" type="text" required maxLength={200} autoComplete="off" aria-describedby={usernameErrors.describedBy} aria-invalid={usernameErrors.invalid} />
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
