import type { Locale } from '../i18n/index.js';
import type { OutgoingMessage } from '../outbox/enqueue.js';

/** What a template renders for one channel in one language. */
export interface RenderedEmail {
  subject: string;
  /** The plain-text part every email carries. */
  text: string;
  html?: string;
}

type Params = Record<string, string | number>;

/**
 * A message template: an email and/or an SMS per language. Templates live in their own files
 * (one per feature) and register themselves here by name; `renderMessage` is all a sender needs.
 */
export interface MessageTemplate {
  name: string;
  email?: Record<Locale, (p: Params) => RenderedEmail>;
  /** Keep SMS short: one segment is 160 GSM-7 characters, or 70 when Greek letters need UCS-2. */
  sms?: Record<Locale, (p: Params) => string>;
  /** Messages carrying a code or a link: their body is scrubbed from the outbox once delivered. */
  sensitive: boolean;
}

const templates = new Map<string, MessageTemplate>();

/** Adds a template; a name can be registered once. */
export function registerTemplate(t: MessageTemplate): void {
  if (templates.has(t.name)) throw new Error(`message template ${t.name} registered twice`);
  templates.set(t.name, t);
}

/** The names of the templates registered so far. */
export const templateNames = (): string[] => [...templates.keys()];

export function getTemplate(name: string): MessageTemplate {
  const t = templates.get(name);
  if (!t) throw new Error(`unknown message template ${name}`);
  return t;
}

/** Escapes a value for the HTML part of an email. */
export function escapeHtml(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A minimal, accessible HTML body around paragraphs (already escaped). */
export function htmlBody(locale: Locale, title: string, paragraphs: string[]): string {
  return `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;line-height:1.5">${paragraphs.map((p) => `<p>${p}</p>`).join('')}</body></html>`;
}

/**
 * Renders template `name` for `channel` in `locale`, ready for `enqueueMessage`.
 * Throws when the template has no such channel (a programming error, not a user's).
 */
export function renderMessage(name: string, channel: 'email' | 'sms', locale: Locale, to: string, purpose: string, params: Params): OutgoingMessage {
  const t = getTemplate(name);
  if (channel === 'email') {
    if (!t.email) throw new Error(`template ${name} has no email`);
    const e = t.email[locale](params);
    return { channel, purpose, to, subject: e.subject, text: e.text, ...(e.html ? { html: e.html } : {}), sensitive: t.sensitive, lang: locale };
  }
  if (!t.sms) throw new Error(`template ${name} has no sms`);
  return { channel, purpose, to, text: t.sms[locale](params), sensitive: t.sensitive, lang: locale };
}

/** True when `text` needs only the GSM 03.38 alphabet (else the SMS is sent as UCS-2). */
export function isGsm7(text: string): boolean {
  return /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/.test(text);
}

/** Whether an SMS fits one segment: 160 GSM-7 characters, or 70 UCS-2 code units. */
export function fitsOneSmsSegment(text: string): boolean {
  return isGsm7(text) ? text.length <= 160 : text.length <= 70;
}
