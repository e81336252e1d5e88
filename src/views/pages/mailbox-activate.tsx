import { SignInLink } from '../components/done-parts.js';
import type { AppContext } from '../../app/context.js';
import type { FlowMessage } from '../../flows/kernel/types.js';
import { translate, type Locale } from '../../i18n/index.js';
import { ErrorSummary } from '../components/flow-form.js';
import { renderPage } from '../layout.js';

export interface ActivatePageInput {
  ctx: AppContext;
  locale: Locale;
  path: string;
  /** The link's token, posted back with the form (the page sends no referrer to other sites). */
  token: string;
  csrf: string;
  policyHint: string;
  errors: FlowMessage[];
  done: { username: string; address: string | null } | null;
}

/** The page of a mailbox activation link: choose the password, or the outcome. */
export function renderMailboxActivate(p: ActivatePageInput): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  const title = p.done ? t('mailbox-activate.doneTitle') : t('mailbox-activate.title');
  const errs = (field: string) =>
    p.errors
      .filter((e) => e.field === field)
      .map((e, i) => (
        <p class="field-error" id={`f-${field}-err${i}`}>
          {e.text}
        </p>
      ));
  const invalid = (field: string) => (p.errors.some((e) => e.field === field) ? ('true' as const) : undefined);
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title,
    path: '/mailbox/activate',
    children: (
      <div class="card narrow">
        <h1>{title}</h1>
        {p.done ? (
          <>
            <p class="success" role="status">
              {t('mailbox-activate.doneText', { address: p.done.address ?? '—', username: p.done.username })}
            </p>
            <SignInLink t={t} />
          </>
        ) : (
          <>
            <p class="lead">{t('mailbox-activate.lead')}</p>
            <ErrorSummary messages={p.errors} t={t} />
            {/* The token stays in the address, as in the emailed link: the form posts back to it. */}
            <form method="post" action={`/mailbox/activate?token=${encodeURIComponent(p.token)}`} class="flow-form" noValidate>
              <input type="hidden" name="_csrf" value={p.csrf} />
              <div class={`field${invalid('newPassword') ? ' has-error' : ''}`}>
                <label for="f-newPassword">{t('field.newPassword')}</label>
                <p class="hint" id="f-newPassword-hint">
                  {p.policyHint}
                </p>
                {errs('newPassword')}
                <input id="f-newPassword" name="newPassword" type="password" required autoComplete="new-password" aria-describedby="f-newPassword-hint" aria-invalid={invalid('newPassword')} />
              </div>
              <div class={`field${invalid('newPasswordConfirm') ? ' has-error' : ''}`}>
                <label for="f-newPasswordConfirm">{t('field.newPasswordConfirm')}</label>
                {errs('newPasswordConfirm')}
                <input id="f-newPasswordConfirm" name="newPasswordConfirm" type="password" required autoComplete="new-password" aria-invalid={invalid('newPasswordConfirm')} />
              </div>
              <div class="actions">
                <button type="submit" class="button primary">
                  {t('mailbox-activate.submit')}
                </button>
              </div>
            </form>
          </>
        )}
      </div>
    ),
  });
}
