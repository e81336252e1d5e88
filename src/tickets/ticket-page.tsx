import type { AppContext } from '../app/context.js';
import type { FieldSpec, FlowMessage } from '../flows/kernel/types.js';
import { formatTime } from '../auth/credentials.js';
import { hasMessage, translate, type Locale } from '../i18n/index.js';
import { ErrorSummary, FieldError } from '../views/components/flow-form.js';
import { renderPage } from '../views/layout.js';

const CONTEXT_FIELDS = ['flow', 'state', 'code', 'reference', 'time'] as const;
type ContextField = (typeof CONTEXT_FIELDS)[number];

/** The form's own fields, so the error summary can name them ("Contact: …"). */
const FORM_FIELDS: FieldSpec[] = [
  { name: 'contact', type: 'text', required: true },
  { name: 'name', type: 'text', required: false },
  { name: 'message', type: 'text', required: true },
];

/**
 * A context value as a person reads it: the procedure's and step's titles, the error's message,
 * the time in the page's language. Null when there is nothing readable to show (the raw value
 * still travels in the hidden field, for the helpdesk).
 */
export function contextText(k: ContextField, values: Record<string, string>, locale: Locale, timeZone: string): string | null {
  const v = values[k];
  if (!v) return null;
  const t = (key: string) => translate(locale, key);
  switch (k) {
    case 'flow':
      return hasMessage(`${v}.title`) ? t(`${v}.title`) : null;
    case 'state': {
      const key = `${values.flow ?? ''}.${v}.title`;
      // A step titled like its procedure adds nothing for the reader.
      return values.flow && hasMessage(key) && t(key) !== t(`${values.flow}.title`) ? t(key) : null;
    }
    case 'code':
      return hasMessage(`error.${v}`) ? t(`error.${v}`) : null;
    case 'time': {
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? null : formatTime(d, locale, timeZone);
    }
    case 'reference':
      return v;
  }
}

/** The helpdesk form, prefilled with the failure's context (shown, and carried as hidden fields). */
export function renderTicketForm(p: { ctx: AppContext; locale: Locale; path: string; csrf: string; values: Record<string, string>; messages: FlowMessage[] }): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  const byField = new Map(p.messages.filter((m) => m.field).map((m) => [m.field!, m.text]));
  const input = (name: 'contact' | 'name', type: string, required: boolean, autocomplete: string) => (
    <div class={`field${byField.has(name) ? ' has-error' : ''}`}>
      <label for={`f-${name}`}>
        {t(`field.${name}`)}
        {required ? null : <span class="optional"> ({t('form.optional')})</span>}
      </label>
      {byField.has(name) ? <FieldError id={`f-${name}-err`} text={byField.get(name)!} t={t} /> : null}
      <input
        id={`f-${name}`}
        name={name}
        type={type}
        required={required}
        autoComplete={autocomplete}
        value={p.values[name] ?? ''}
        aria-invalid={byField.has(name) ? 'true' : undefined}
        aria-describedby={byField.has(name) ? `f-${name}-err` : undefined}
      />
    </div>
  );
  const context = CONTEXT_FIELDS.filter((k) => p.values[k]);
  const shown = context.flatMap((k) => {
    const text = contextText(k, p.values, p.locale, p.ctx.config.institution.timeZone);
    return text ? [{ k, text }] : [];
  });
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title: p.messages.length > 0 ? t('form.errorTitle', { title: t('ticket.title') }) : t('ticket.title'),
    path: p.path,
    children: (
      <div class="card narrow">
        <h1>{t('ticket.title')}</h1>
        {/* The sentence about the details below only when there are some (a form opened from a failure). */}
        <p class="lead">{t(shown.length > 0 ? 'ticket.lead' : 'ticket.leadPlain')}</p>
        <ErrorSummary messages={p.messages} t={t} fields={FORM_FIELDS} />
        <form method="post" action="/helpdesk/tickets" class="flow-form" noValidate>
          <input type="hidden" name="_csrf" value={p.csrf} />
          {shown.length > 0 ? (
            <>
              <h2>{t('ticket.context')}</h2>
              <dl class="facts">
                {shown.map(({ k, text }) => (
                  <>
                    <dt>{t(k === 'code' ? 'ticket.problem' : `ticket.${k}`)}</dt>
                    <dd>{text}</dd>
                  </>
                ))}
              </dl>
            </>
          ) : null}
          {context.map((k) => (
            <input type="hidden" name={k} value={p.values[k]} />
          ))}
          {input('contact', 'text', true, 'email')}
          {input('name', 'text', false, 'name')}
          <div class={`field${byField.has('message') ? ' has-error' : ''}`}>
            <label for="f-message">{t('field.message')}</label>
            {byField.has('message') ? <FieldError id="f-message-err" text={byField.get('message')!} t={t} /> : null}
            <textarea id="f-message" name="message" required rows={5} aria-invalid={byField.has('message') ? 'true' : undefined} aria-describedby={byField.has('message') ? 'f-message-err' : undefined}>
              {p.values.message ?? ''}
            </textarea>
          </div>
          <div class="actions">
            <button type="submit" class="button primary">
              {t('form.submit')}
            </button>
          </div>
        </form>
      </div>
    ),
  });
}

/** The ticket sent; `contact` null when shown again by its number (another language). */
export function renderTicketDone(p: { ctx: AppContext; locale: Locale; path: string; id: string; contact: string | null }): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    title: t('ticket.doneTitle'),
    path: p.path,
    children: (
      <div class="card narrow">
        <h1>{t('ticket.doneTitle')}</h1>
        <p class="success" role="status">
          {p.contact === null ? t('ticket.doneNumber', { id: p.id }) : t('ticket.doneText', { id: p.id, contact: p.contact })}
        </p>
        <p>
          <a href="/">{t('ticket.home')}</a>
        </p>
      </div>
    ),
  });
}
