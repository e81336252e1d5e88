import type { AppContext } from '../../app/context.js';
import type { FlowView } from '../../flows/kernel/service.js';
import { formatTime } from '../../auth/credentials.js';
import { translate, type Locale } from '../../i18n/index.js';
import { ErrorSummary, FlowForm } from '../components/flow-form.js';
import { flowViewHooks } from '../flow-views.js';
import { renderPage } from '../layout.js';
import { ticketLink } from '../../tickets/link.js';

export interface FlowPageInput {
  ctx: AppContext;
  locale: Locale;
  path: string;
  view: FlowView;
  csrf: string;
  values: Record<string, string>;
  signedIn: { username: string; logoutCsrf: string } | null;
  /** The request id, quoted as the reference number of a helpdesk ticket. */
  reference?: string;
}

/** A flow's page: title, lead, errors, the state's intro and form; or its completed page. */
export function renderFlowPage(p: FlowPageInput): string {
  const t = (k: string, params?: Record<string, string | number>) => translate(p.locale, k, params);
  const h = flowViewHooks(p.view.kind);
  const done = p.view.state === 'completed';
  // A state past its lifetime (a void registration) has its own title and lead where there are some.
  const state = p.view.data.voided === true ? `${p.view.state}.voided` : p.view.state;
  const stateTitleKey = `${p.view.kind}.${state}.title`;
  const stateTitle = t(stateTitleKey);
  const title = done ? t(h.doneTitle?.(p.view) ?? `${p.view.kind}.doneTitle`) : stateTitle !== stateTitleKey ? stateTitle : t(`${p.view.kind}.title`);
  const leadKey = done ? '' : `${p.view.kind}.${state}.lead`;
  // A state's lead may quote the state's data (e.g. how many minutes a code stays valid).
  const leadParams = Object.fromEntries(Object.entries(p.view.data).filter((e): e is [string, string | number] => typeof e[1] === 'string' || typeof e[1] === 'number'));
  const stateLead = leadKey ? t(leadKey, leadParams) : '';
  const lead = done ? '' : stateLead !== leadKey ? stateLead : t(`${p.view.kind}.lead`);
  // Problems with a field go in the summary that links to the fields; the others (wrong
  // credentials, a lock until a time) are a plain alert: nothing in the form fixes them. A
  // problem reported both generally and on a field is listed once, on its field.
  const fieldMessages = p.view.messages.filter((m) => m.field);
  const onFields = new Set(fieldMessages.map((m) => m.text));
  const general = p.view.messages.filter((m) => !m.field && !onFields.has(m.text));
  const hasErrors = !done && p.view.messages.length > 0;
  return renderPage({
    ctx: p.ctx,
    locale: p.locale,
    // Screen readers announce the title first: a page back with errors says so there.
    title: hasErrors ? t('form.errorTitle', { title }) : title,
    path: p.path,
    signedIn: p.signedIn,
    children: (
      <div class="card narrow">
        <h1>{title}</h1>
        {done ? (
          h.done ? (
            h.done(p.view, t, p.ctx)
          ) : null
        ) : (
          <>
            {lead && lead !== `${p.view.kind}.lead` ? <p class="lead">{lead}</p> : null}
            {/* One alert region: with field errors too, the general message heads their summary. */}
            {general.length > 0 && fieldMessages.length === 0 ? (
              <div class="error-summary error-alert" role="alert" id="error-summary" tabIndex={-1} autofocus>
                {general.map((m) => (
                  <p>{m.text}</p>
                ))}
              </div>
            ) : null}
            <ErrorSummary messages={fieldMessages} general={general} t={t} fields={p.view.fields} kind={p.view.kind} />
            {h.intro?.(p.view, t, p.ctx) ?? null}
            <FlowForm view={p.view} csrf={p.csrf} values={p.values} t={t} submitLabel={h.submitLabel?.(p.view) ? t(h.submitLabel(p.view)!) : undefined} />
            {h.outro?.(p.view, t, p.ctx) ?? null}
            <p class="muted small expires">{t('flow.expiresAt', { time: formatTime(new Date(p.view.expiresAt), p.locale, p.ctx.config.institution.timeZone) })}</p>
            {p.view.messages.length > 0 ? (
              <p class="ticket-link">
                {t('ticket.linkLead')}{' '}
                <a
                  href={ticketLink({
                    flow: p.view.kind,
                    state: p.view.state,
                    code: p.view.messages[0]!.code,
                    reference: p.reference,
                    time: p.ctx.clock.now().toISOString(),
                    contact: typeof p.view.data.contact === 'string' ? p.view.data.contact : undefined,
                  })}
                >
                  {t('ticket.link')}
                </a>
              </p>
            ) : null}
          </>
        )}
      </div>
    ),
  });
}
