export const locales = ['it', 'en', 'el'] as const;
export type Locale = (typeof locales)[number];

/**
 * Declares one area's messages. English is the source; Italian and Greek must have exactly the
 * same keys, which the compiler checks (a missing or extra key does not build).
 * Placeholders are written `{name}`.
 */
export function defineMessages<const E extends Record<string, string>>(
  en: E,
  it: { [K in keyof E]: string },
  el: { [K in keyof E]: string },
): { en: E; it: { [K in keyof E]: string }; el: { [K in keyof E]: string } } {
  return { en, it, el };
}
