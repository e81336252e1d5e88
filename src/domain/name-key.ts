/**
 * A person's name as the helpdesk types it: what a caller says on the phone ("Rossi Mario",
 * "Μαρία Παπαδοπούλου", "José D'Angelo") is typed without accents, in any case, with or without
 * the apostrophe. Both the stored names and the term typed are reduced to the same key, and a
 * search is a prefix of it (admin/find-accounts.ts). Nothing is transliterated: Greek stays Greek.
 *
 * - accents go (NFD, then the combining marks dropped: à → a, ñ → n, Greek tonos and dialytika);
 *   lower-casing first, as İ lower-cases to i plus a combining dot that must go too;
 * - the Greek final sigma ς is σ, as upper-case Σ has one form only;
 * - apostrophes of every kind go, with a space after them: D'Angelo, D’Angelo, D' Angelo and
 *   Dangelo (as registrars that refuse the apostrophe write it) are one key;
 * - hyphens are spaces ("Rossi-Bianchi" found as "rossi bianchi" too), and spaces run together.
 *
 * Changing this changes every stored key: a migration must compute them again.
 */
export function nameKey(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ς/g, 'σ')
    .replace(/['’‘ʼ`´]\s*/g, '')
    .replace(/[\s\-‐‑–—]+/g, ' ')
    .trim();
}

/**
 * The keys stored with a person's name (persons.name_key_family_first and name_key_given_first):
 * "family given" and "given family", so that either order the caller says the name in, or the
 * family name alone, is a prefix of one of them. Every write of given_name or family_name writes
 * these with it.
 */
export function nameKeyColumns(givenName: string, familyName: string): { name_key_family_first: string; name_key_given_first: string } {
  const given = nameKey(givenName);
  const family = nameKey(familyName);
  return {
    name_key_family_first: [family, given].filter(Boolean).join(' '),
    name_key_given_first: [given, family].filter(Boolean).join(' '),
  };
}

/** Letters, spaces, apostrophes and hyphens only: a term that may be a name. */
const nameTerm = /^[\p{L}\p{M}\s'’‘ʼ`´\-‐‑–—]+$/u;

/** The fewest letters a name search takes: fewer would list a good part of the population. */
export const nameSearchMinLetters = 3;

/** The key a term typed is looked up by, or null when the term is not a name or too short to search. */
export function nameSearchKey(term: string): string | null {
  if (!nameTerm.test(term)) return null;
  const key = nameKey(term);
  return [...key.replace(/ /g, '')].length >= nameSearchMinLetters ? key : null;
}
