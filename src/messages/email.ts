import type { AppContext } from '../app/context.js';
import { nameProblem } from '../domain/person-fields.js';
import { translate, type Locale } from '../i18n/index.js';
import type { OutgoingMessage } from '../outbox/enqueue.js';
import { localized } from '../views/localized.js';

/**
 * The institution's emails to people (registration, recovery, lifecycle warnings, mailboxes), all
 * built alike so that every one shows who sends it: the subject begins with the institution's
 * name, the body ends with its signature, and a plain-text and an HTML part (marked with the
 * language) say the same, rendered in the recipient's language when enqueued. Links are absolute
 * under PUBLIC_URL.
 *
 * A person is greeted by name ("Gentile {name},", "Hello {name},") only when the name passes the
 * name checks (no control characters, no web or email address, not too long); with any other the
 * email has no greeting line. Greek greets without the name: after a vocative opener the name
 * would have to be inflected (Νίκο, not Νίκος), which code cannot do reliably.
 */
export type Params = Record<string, string | number>;

export interface Line {
  key: string;
  params?: Params;
}

export interface EmailBody {
  purpose: string;
  to: string;
  subjectKey: string;
  subjectParams?: Params;
  /** The person greeted (mail.greeting). */
  name?: string | undefined;
  /** A greeting of its own, for an addressee who is not greeted by name (a school's head). */
  greeting?: Line;
  lines: Line[];
  link?: string;
  after?: Line[];
  sensitive?: boolean;
  /** False for a message nobody asked for (a lifecycle warning, a notice): no "if you did not ask, ignore it". */
  ignorable?: boolean;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An absolute link under the portal's public address. */
export const publicLink = (ctx: AppContext, path: string) => `${ctx.env.PUBLIC_URL}${path}`;

export function institutionName(ctx: AppContext, locale: Locale): string {
  return localized(ctx.config.institution.name, locale);
}

export function institutionEmail(ctx: AppContext, locale: Locale, b: EmailBody): OutgoingMessage {
  const institution = institutionName(ctx, locale);
  const t = (key: string, p: Params = {}) => translate(locale, key, { institution, ...p });
  const greeting = b.greeting ? [t(b.greeting.key, b.greeting.params)] : b.name && nameProblem(b.name) === null ? [t('mail.greeting', { name: b.name.trim() })] : [];
  const paragraphs = [...greeting, ...b.lines.map((l) => t(l.key, l.params))];
  const after = [...(b.after ?? []).map((l) => t(l.key, l.params)), ...(b.ignorable === false ? [] : [t('mail.ignore')])];
  const text = [...paragraphs, ...(b.link ? [b.link] : []), ...after, '--', t('mail.signature')].join('\n\n');
  const html = [
    `<!doctype html><html lang="${locale}"><body>`,
    // Paragraphs keep their line breaks (a referent's reason may have several lines).
    ...paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    ...(b.link ? [`<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.link)}</a></p>`] : []),
    ...after.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    `<p>-- <br>${escapeHtml(t('mail.signature'))}</p></body></html>`,
  ].join('\n');
  return { channel: 'email', purpose: b.purpose, to: b.to, subject: t(b.subjectKey, b.subjectParams), text, html, sensitive: b.sensitive ?? false, lang: locale };
}
