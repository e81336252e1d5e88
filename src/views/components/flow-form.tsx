import { hasMessage } from '../../i18n/index.js';
import type { FieldSpec, FlowMessage } from '../../flows/kernel/types.js';
import type { FlowView } from '../../flows/kernel/service.js';

type T = (k: string, p?: Record<string, string | number>) => string;

/** A flow's own label (`<kind>.field.email`) when it has one, else the shared one (`field.email`). */
const specific = (kind: string, group: 'field' | 'action', name: string): string =>
  hasMessage(`${kind}.${group}.${name}`) ? `${kind}.${group}.${name}` : `${group}.${name}`;

/** A field's label as the form shows it, so that the error summary names the field the same way. */
const fieldLabel = (f: FieldSpec, kind: string | undefined, t: T): string =>
  f.labelText ?? t(f.label ?? (kind ? specific(kind, 'field', f.name) : `field.${f.name}`));

/**
 * One field with its label, hint and errors; `kind` picks a page's own labels (`<kind>.field.<name>`).
 * `withNotice`: a consent's checkbox links the notice it refers to (once per page: FlowForm).
 */
export function FieldInput(props: { f: FieldSpec; kind: string; value: string; errors: FlowMessage[]; t: T; withNotice?: boolean }) {
  const { f, value, t } = props;
  const id = `f-${f.name}`;
  const hintId = f.hint ? `${id}-hint` : '';
  const notice = props.withNotice ? f.consent?.notice : undefined;
  const noticeId = notice ? `${id}-notice` : '';
  const errorIds = props.errors.map((_, i) => `${id}-err${i}`);
  const describedBy = [noticeId, hintId, ...errorIds].filter(Boolean).join(' ') || undefined;
  const invalid = props.errors.length > 0;
  const label = fieldLabel(f, props.kind, t);
  const common = {
    id,
    name: f.name,
    required: f.required,
    'aria-describedby': describedBy,
    'aria-invalid': invalid ? ('true' as const) : undefined,
  };
  const hint = f.hint ? (
    <p class="hint" id={hintId}>
      {t(f.hint)}
    </p>
  ) : null;
  // Label, hint, then the error right above the control it concerns.
  const errors = props.errors.map((m, i) => <FieldError id={errorIds[i]!} text={m.text} t={t} />);
  if (f.type === 'checkbox') {
    return (
      <div class={`field checkbox${invalid ? ' has-error' : ''}`}>
        {/* A choice refused (a consent whose text changed since the page was shown) is made again, never left ticked. */}
        <input type="checkbox" value="true" checked={value === 'true' && !invalid} {...common} />
        <label for={id}>{label}</label>
        {notice ? (
          <p class="consent-notice" id={noticeId}>
            <a href={notice.url}>{notice.text}</a>
          </p>
        ) : null}
        {hint}
        {errors}
      </div>
    );
  }
  if (f.type === 'radio') {
    return (
      <fieldset class={`field radios${invalid ? ' has-error' : ''}`} aria-describedby={describedBy}>
        <legend>{label}</legend>
        {hint}
        {errors}
        {(f.options ?? []).map((o, i) => (
          <div class="radio">
            <input type="radio" id={`${id}-${i}`} name={f.name} value={o.value} checked={value === o.value} required={f.required} aria-invalid={invalid ? 'true' : undefined} />
            <label for={`${id}-${i}`}>{o.label}</label>
          </div>
        ))}
      </fieldset>
    );
  }
  return (
    <div class={`field${invalid ? ' has-error' : ''}`}>
      <label for={id}>
        {label}
        {f.required ? null : <span class="optional"> ({t('form.optional')})</span>}
      </label>
      {hint}
      {errors}
      {f.type === 'select' ? (
        <select {...common}>
          <option value=""></option>
          {(f.options ?? []).map((o) => (
            <option value={o.value} selected={o.value === value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <input
          type={f.type === 'number' ? 'text' : f.type}
          inputMode={f.type === 'number' ? 'numeric' : undefined}
          value={f.type === 'password' ? '' : value}
          autoComplete={f.autocomplete}
          maxLength={f.maxLength}
          spellcheck={f.type === 'text' ? false : undefined}
          {...common}
        />
      )}
    </div>
  );
}

/** A field's error, right above its control, announced as an error. */
export function FieldError(props: { id: string; text: string; t: T }) {
  return (
    <p class="field-error" id={props.id}>
      <span class="visually-hidden">{props.t('form.errorPrefix')} </span>
      {props.text}
    </p>
  );
}

/** Errors first, as a list linking to each field (WCAG 3.3.1), then the form. */
export function ErrorSummary(props: { messages: FlowMessage[]; t: T; fields?: FieldSpec[]; kind?: string; general?: FlowMessage[] }) {
  if (props.messages.length === 0) return null;
  // What went wrong as a whole, said once, before the fields to correct.
  const general = (props.general ?? []).filter((g) => !props.messages.some((m) => m.text === g.text));
  // A step may report one problem both generally and on its field: list it once, as the link.
  const onFields = new Set(props.messages.filter((m) => m.field).map((m) => m.text));
  // In the order of the fields on the page (what is not about a field first), as a person reading
  // the list and then the form meets them; a field's own messages keep their order.
  const position = new Map((props.fields ?? []).map((f, i) => [f.name, i]));
  const rank = (m: FlowMessage) => (m.field !== undefined ? (position.get(m.field) ?? position.size) : -1);
  const shown = props.messages.filter((m) => m.field || !onFields.has(m.text)).sort((a, b) => rank(a) - rank(b));
  // "Username: this field is required." rather than the same sentence twice for two fields, with
  // the label the field itself shows.
  const labels = new Map((props.fields ?? []).map((f) => [f.name, fieldLabel(f, props.kind, props.t)]));
  const withLabel = (m: FlowMessage) => (m.field && labels.has(m.field) ? `${labels.get(m.field)}: ${m.text}` : m.text);
  // A group of radio buttons has no control of the field's own id: the link leads to its first button.
  const radios = new Set((props.fields ?? []).filter((f) => f.type === 'radio').map((f) => f.name));
  const target = (field: string) => (radios.has(field) ? `#f-${field}-0` : `#f-${field}`);
  return (
    // Focused when the page loads (no script needed): a screen reader reads what to correct first,
    // and the next Tab reaches its links, then the form.
    <div class="error-summary" role="alert" tabIndex={-1} autofocus id="error-summary" aria-labelledby="error-summary-title">
      {general.map((m) => (
        <p class="error-lead">{m.text}</p>
      ))}
      <h2 id="error-summary-title">{props.t('form.errorSummary')}</h2>
      <ul>
        {shown.map((m) => (
          <li>{m.field ? <a href={target(m.field)}>{withLabel(m)}</a> : m.text}</li>
        ))}
      </ul>
    </div>
  );
}

export function FlowForm(props: { view: FlowView; csrf: string; values: Record<string, string>; t: T; submitLabel?: string }) {
  const { view, t } = props;
  const byField = new Map<string, FlowMessage[]>();
  for (const m of view.messages) if (m.field) byField.set(m.field, [...(byField.get(m.field) ?? []), m]);
  const secondary = view.actions.filter((a) => a !== 'submit');
  // A notice is linked next to the first consent that refers to it (the privacy checkbox), not again.
  const linked = new Set<string>();
  const withNotice = (f: FieldSpec) => {
    const url = f.consent?.notice?.url;
    if (!url || linked.has(url)) return false;
    linked.add(url);
    return true;
  };
  return (
    <form method="post" action={`/flows/${view.kind}/${view.id}`} class="flow-form" noValidate>
      <input type="hidden" name="_csrf" value={props.csrf} />
      {view.fields.map((f) => (
        <FieldInput f={f} kind={view.kind} value={props.values[f.name] ?? f.value ?? ''} errors={byField.get(f.name) ?? []} t={t} withNotice={withNotice(f)} />
      ))}
      <div class="actions">
        {view.actions.includes('submit') ? (
          <button type="submit" name="action" value="submit" class="button primary">
            {props.submitLabel ?? t('form.submit')}
          </button>
        ) : null}
        {secondary.map((a) => (
          <button type="submit" name="action" value={a} class="button secondary" formNoValidate>
            {t(specific(view.kind, 'action', a))}
          </button>
        ))}
      </div>
    </form>
  );
}
