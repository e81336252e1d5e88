import { locales, type Locale } from './define.js';
import { common } from './messages/common.js';
import { errors } from './messages/errors.js';
import { flowsCore } from './messages/flows-core.js';
import { imports } from './messages/imports.js';
import { portal } from './messages/portal.js';
import { mailboxes } from './messages/mailboxes.js';
import { oidc } from './messages/oidc.js';
import { registrationMessages } from './messages/registration.js';
import { activationPin } from './messages/activation-pin.js';
import { spid } from './messages/spid.js';
import { provisioning } from './messages/provisioning.js';
import { accountNotices } from './messages/account-notices.js';

export { locales, type Locale } from './define.js';

/** Every area's messages. A new area adds one line here. */
const areas = [common, errors, flowsCore, imports, portal, mailboxes, oidc, registrationMessages, activationPin, spid, provisioning, accountNotices] as const;

type Area = (typeof areas)[number];
type KeysOf<A> = A extends { en: infer E } ? keyof E : never;
export type MessageKey = KeysOf<Area> & string;

const catalogs: Record<Locale, Map<string, string>> = { it: new Map(), en: new Map(), el: new Map() };
const conflicts: string[] = [];
for (const area of areas) {
  for (const loc of locales) {
    for (const [k, v] of Object.entries(area[loc])) {
      const had = catalogs[loc].get(k);
      if (had !== undefined && had !== v) conflicts.push(`${loc}:${k}`);
      catalogs[loc].set(k, v);
    }
  }
}

/** Keys that two areas define with different texts (a test keeps this empty: one key, one text). */
export const conflictingKeys = (): string[] => [...conflicts];

/** Every message key (English is the source: the other languages have the same keys). */
export const messageKeys = (): string[] => [...catalogs.en.keys()];

export function hasMessage(key: string, locale: Locale = 'en'): boolean {
  return catalogs[locale].has(key);
}

/** Translates a key; `{name}` placeholders take `params`. Unknown keys come back as the key itself. */
export function translate(locale: Locale, key: MessageKey | string, params?: Record<string, string | number>): string {
  const text = catalogs[locale].get(key) ?? catalogs.en.get(key) ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export type Translator = (key: MessageKey | string, params?: Record<string, string | number>) => string;
export const translator = (locale: Locale): Translator => (key, params) => translate(locale, key, params);

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (locales as readonly string[]).includes(v);
}

/** Picks it/en/el from an Accept-Language header by quality; `fallback` when none matches. */
export function negotiateLocale<F extends Locale | null = Locale>(header: string | undefined, fallback: F): Locale | F {
  if (!header) return fallback;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag, ...ps] = part.trim().split(';');
      const q = ps.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { lang: (tag ?? '').toLowerCase().split('-')[0] ?? '', q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { lang } of ranked) if (isLocale(lang)) return lang;
  return fallback;
}
