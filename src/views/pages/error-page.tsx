import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../app/context.js';
import { translate, type Locale } from '../../i18n/index.js';
import { renderPage } from '../layout.js';
import { ticketLink } from '../../tickets/link.js';

/** A page for an error outside a flow form: expired or unknown flow, not found, server error. */
export function renderErrorPage(
  ctx: AppContext,
  req: FastifyRequest,
  e: { status: number; code: string; locale: Locale; params?: Record<string, string | number> | undefined; reference: string },
): string {
  const t = (k: string, p?: Record<string, string | number>) => translate(e.locale, k, p);
  // A title that says where the person is: an emailed link that no longer works is said so.
  const title =
    e.code === 'flow.expired' ? t('flow.expiredTitle') : e.code === 'mailbox.link_invalid' ? t('link.invalidTitle') : e.status === 404 ? t('notFound.title') : t('error.title');
  const flowKind = /^\/flows\/([a-z-]+)/.exec(req.url)?.[1];
  // Where to start again: the flow's start when the path names the flow; after a refused form
  // (CSRF) elsewhere, the home page.
  const restartable = e.code === 'flow.expired' || e.code === 'flow.not_found' || e.code === 'flow.wrong_state' || e.code === 'auth.csrf';
  const restart = !restartable ? null : flowKind ? `/flows/${flowKind}` : e.code === 'auth.csrf' ? '/' : null;
  // Signed out meanwhile (in another tab, or the session ended): sign in, then back to the flow's start.
  const signIn = e.code === 'flow.session_required' ? (flowKind ? `/flows/${flowKind}` : '/flows/login') : null;
  // An emailed link's token stays in the address the email carried: the language links lead
  // to the same path without it.
  const url = new URL(req.url, 'http://x');
  url.searchParams.delete('token');
  return renderPage({
    ctx,
    locale: e.locale,
    title,
    path: `${url.pathname}${url.search}`,
    children: (
      <div class="card narrow">
        <h1>{title}</h1>
        {/* A page that is not there: a sentence, not the API's bare "Not found." under the title. */}
        <p class="lead">{e.code === 'not_found' ? t('notFound.text') : t(`error.${e.code}`, e.params)}</p>
        {e.code === 'flow.expired' ? <p>{t('flow.expiredText')}</p> : null}
        {restart ? (
          <p>
            <a class="button primary" href={restart}>
              {t('flow.restart')}
            </a>
          </p>
        ) : null}
        {signIn ? (
          <p>
            <a class="button primary" href={signIn}>
              {t('home.signin.login')}
            </a>
          </p>
        ) : null}
        {e.status === 404 && !restart ? (
          <p>
            <a class="button primary" href="/">
              {t('notFound.home')}
            </a>
          </p>
        ) : null}
        <p class="ticket-link">
          {t('ticket.linkLead')}{' '}
          <a href={ticketLink({ flow: flowKind, code: e.code, reference: e.reference, time: ctx.clock.now().toISOString() })}>{t('ticket.link')}</a>
        </p>
        <p class="muted small">{t('error.reference', { id: e.reference })}</p>
      </div>
    ),
  });
}
