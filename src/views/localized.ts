import type { LocalizedText } from '../config/institution-schema.js';
import type { Locale } from '../i18n/index.js';

/** Picks the institution's text in `locale`, falling back to English. */
export function localized(text: LocalizedText, locale: Locale): string {
  return typeof text === 'string' ? text : (text[locale] ?? text.en);
}
