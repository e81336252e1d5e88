import { ehicCountries, otherCountries } from '../../domain/insurance-number.js';
import type { Locale } from '../../i18n/index.js';

const cache = new Map<Locale, Array<{ value: string; label: string }>>();

/**
 * The countries offered for a foreign insurance number, named in the page's language (Intl),
 * sorted by name: first the countries issuing the European Health Insurance Card, then others.
 */
export function countryOptions(locale: Locale): Array<{ value: string; label: string }> {
  let list = cache.get(locale);
  if (!list) {
    const names = new Intl.DisplayNames([locale], { type: 'region' });
    const collator = new Intl.Collator(locale);
    const named = (codes: readonly string[]) =>
      codes.map((c) => ({ value: c, label: names.of(c) ?? c })).sort((a, b) => collator.compare(a.label, b.label));
    list = [...named(ehicCountries), ...named(otherCountries)];
    cache.set(locale, list);
  }
  return list;
}
