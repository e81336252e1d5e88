import type { AppContext } from '../app/context.js';
import { isLocale, type Locale } from '../i18n/index.js';

/**
 * The language remembered with an account a person creates, activates or registers: the one they
 * chose or their browser or app asked for (`language`: `?lang=`, the language cookie, an
 * Accept-Language match, a service's `ui_locales`), else the one the account already has, else the
 * institution's `defaultLocale` — the language its pages are served in when none is asked for.
 * Never the English an API answer falls back to: that is the answer's language, not the person's.
 */
export function accountLocale(ctx: Pick<AppContext, 'config'>, language: Locale | null | undefined, remembered?: string | null): Locale {
  return language ?? (isLocale(remembered) ? remembered : ctx.config.institution.defaultLocale);
}
