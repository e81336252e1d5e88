/**
 * Usernames and institutional addresses from a population's pattern, e.g.
 * `{externalId}@studenti.{domain}` or `{given}.{family}@{domain}`.
 */
export interface PatternInput {
  externalId: string;
  givenName: string;
  familyName: string;
  domain: string;
}

/** Folds a name to the letters a mailbox accepts: accents removed, apostrophes and spaces dropped. */
export function foldName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/[æ]/gi, 'ae')
    .replace(/[ø]/gi, 'o')
    .toLowerCase()
    .replace(/['’`\s]+/g, '')
    .replace(/[^a-z0-9-]/g, '');
}

export function renderPattern(pattern: string, input: PatternInput): string {
  return pattern
    .replace(/\{externalId\}/g, input.externalId.toLowerCase())
    .replace(/\{given\}/g, foldName(input.givenName.split(/\s+/)[0] ?? input.givenName))
    .replace(/\{family\}/g, foldName(input.familyName))
    .replace(/\{domain\}/g, input.domain.toLowerCase());
}

/**
 * The first free candidate: the pattern itself, then with 2, 3, … appended to the local part
 * (`mario.rossi2@…`). `taken` answers for a lowercased candidate.
 */
export async function firstFree(base: string, taken: (candidate: string) => Promise<boolean>, max = 500): Promise<string> {
  const at = base.indexOf('@');
  const local = at === -1 ? base : base.slice(0, at);
  const domain = at === -1 ? '' : base.slice(at);
  for (let n = 1; n <= max; n++) {
    const candidate = n === 1 ? base : `${local}${n}${domain}`;
    if (!(await taken(candidate.toLowerCase()))) return candidate;
  }
  throw new Error(`no free address for ${base}`);
}
