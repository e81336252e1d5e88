import { SignInLink } from '../components/done-parts.js';
import type { AppContext } from '../../app/context.js';
import type { FieldSpec, FlowMessage } from '../../flows/kernel/types.js';
import { translate, type Locale } from '../../i18n/index.js';
import { ErrorSummary, FieldInput } from '../components/flow-form.js';
import { renderPage } from '../layout.js';

export interface ActivatePageInput {
  ctx: AppContext;
  locale: Locale;
  csrf: string;
  policyHint: string;
  errors: FlowMessage[];
  done: { username: string; address: string | null } | null;
  /** The link was opened again after it activated the account. */
  used?: boolean;
}

/** The fields of the form, as a flow's step describes its own (labels `field.<name>`). */
const fields = (policyHint: string): FieldSpec[] => [
  { name: 'newPassword', type: 'password', required: true, autocomplete: 'new-password', hint: policyHint },
  { name: 'newPasswordConfirm', type: 'password', required: true, autocomplete: 'new-password' },
];

/**
 * The page of a mailbox activation link: choose the password, or the outcome. The link's token
 * is not on the page: the server keeps it for this browser (see the routes), so the form and the
 * language links lead to the bare path.
 */
export function renderMailboxActivate(p: ActivatePageInput): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  const title = p.done ? t('mailbox-activate.doneTitle') : p.used ? t('mailbox-activate.usedTitle') : t('mailbox-activate.title');
  const specs = fields(p.policyHint);
  // Problems that no field fixes are listed in the summary as they are.
  const known = new Set(specs.map((f) => f.name));
  const errors = p.errors.map((m) => (m.field && !known.has(m.field) ? { code: m.code, text: m.text } : m));
  const hasErrors = !p.done && errors.length > 0;
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    // Screen readers announce the title first: a page back with errors says so there.
    title: hasErrors ? t('form.errorTitle', { title }) : title,
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
        ) : p.used ? (
          <>
            <p role="status">{t('mailbox-activate.usedText')}</p>
            <SignInLink t={t} />
          </>
        ) : (
          <>
            <p class="lead">{t('mailbox-activate.lead')}</p>
            <ErrorSummary messages={errors} t={t} fields={specs} kind="mailbox-activate" />
            <form method="post" action="/mailbox/activate" class="flow-form" noValidate>
              <input type="hidden" name="_csrf" value={p.csrf} />
              {specs.map((f) => (
                <FieldInput f={f} kind="mailbox-activate" value="" errors={errors.filter((m) => m.field === f.name)} t={t} />
              ))}
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
