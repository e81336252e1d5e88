import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

// The transliteration tables are loaded with the first name that needs them (a server that never
// meets a letter outside ASCII and Greek never holds them in memory).
let transliterate: ((s: string) => string) | undefined;
const anyAscii = (s: string): string =>
  /^[\x00-\x7f]*$/.test(s) ? s : (transliterate ??= (createRequire(import.meta.url)('any-ascii') as { default: (s: string) => string }).default)(s);

/**
 * Usernames and institutional addresses from a population's pattern, e.g.
 * `{externalId}@studenti.{domain}` or `{given}.{family}@{domain}`.
 */
export interface PatternInput {
  externalId: string;
  givenName: string;
  familyName: string;
  domain: string;
  /**
   * The local part to use when a name in the pattern folds to nothing (see renderPattern); by
   * default the external id, folded.
   */
  fallback?: string | undefined;
}

/**
 * Modern Greek to Latin letters after ELOT 743 (the transcription of Greek passports and of the
 * public administration): Ελένη → eleni, Παπαδοπούλου → papadopoulou, Γιώργος → giorgos. The
 * general transliteration below spells Greek letter by letter (ου → oy, ευ → ey, γγ → gg, giving
 * `papadopoyloy`, `eyaggelos`), which no Greek would recognise as their name, hence this table for
 * Greek and the general one for every other script.
 */
const GREEK: Readonly<Record<string, string>> = {
  α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm',
  ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o',
};
/** After αυ, ευ, ηυ these (and the end of the word) give af, ef, if; anything else av, ev, iv. */
const VOICELESS = new Set(['θ', 'κ', 'ξ', 'π', 'σ', 'ς', 'τ', 'φ', 'χ', 'ψ']);

/** A Greek letter of `ch` without its accent, and whether it bears a diaeresis (ϊ, ϋ, ΰ). */
function greekLetter(ch: string | undefined): { base: string; diaeresis: boolean } | null {
  if (ch === undefined) return null;
  const d = ch.normalize('NFD');
  const base = d[0]!;
  return base in GREEK ? { base, diaeresis: d.includes('\u0308') } : null;
}

/** The Greek letters of lowercased `text` in Latin (ELOT 743); every other character kept. */
function greekToLatin(text: string): string {
  const chars = [...text];
  const g = chars.map(greekLetter);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const cur = g[i];
    if (!cur) {
      out += chars[i];
      continue;
    }
    const next = g[i + 1];
    // A diaeresis on υ parts it from the vowel before: Ταΰγετος is taygetos, not tavgetos.
    const joinedY = next?.base === 'υ' && !next.diaeresis;
    if (joinedY && (cur.base === 'α' || cur.base === 'ε' || cur.base === 'η')) {
      const after = g[i + 2];
      out += GREEK[cur.base]! + (after && !VOICELESS.has(after.base) ? 'v' : 'f');
      i++;
    } else if (joinedY && cur.base === 'ο') {
      out += 'ou';
      i++;
    } else if (cur.base === 'μ' && next?.base === 'π' && !g[i - 1]) {
      out += 'b';
      i++;
    } else if (cur.base === 'γ' && (next?.base === 'γ' || next?.base === 'ξ' || next?.base === 'χ')) {
      out += 'n';
    } else {
      out += GREEK[cur.base]!;
    }
  }
  return out;
}

/**
 * Folds a name to the letters a mailbox accepts: transliterated to ASCII (Greek as in Greek
 * passports, Łukasz → lukasz, Đorđe → dorde, ø → o, æ → ae, ß → ss, þ → th), apostrophes, spaces
 * and other signs dropped, no hyphen at either end. May be empty (a name of signs only).
 */
export function foldName(name: string): string {
  return anyAscii(greekToLatin(name.normalize('NFKC').toLowerCase()))
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The external id as a local part when the names give none: transliterated, only the characters a
 * username may have, no dot or hyphen at either end; an id of signs only gives a digest of it, so
 * that the same record always gets the same name.
 */
function foldedExternalId(externalId: string): string {
  const folded = anyAscii(externalId.normalize('NFKC').toLowerCase())
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '')
    .replace(/[._-]{2,}/g, (s) => s[0]!)
    .replace(/^[._-]+|[._-]+$/g, '');
  return folded || `id${createHash('sha256').update(externalId).digest('hex').slice(0, 10)}`;
}

export function renderPattern(pattern: string, input: PatternInput): string {
  // The first word of the given name that leaves letters (`Maria Elena` → maria); names are folded
  // only for a pattern that uses them (an import of 100k `{externalId}` usernames folds none).
  const given = pattern.includes('{given}') ? (input.givenName.trim().split(/\s+/).map(foldName).find(Boolean) ?? '') : '';
  const family = pattern.includes('{family}') ? foldName(input.familyName) : '';
  const render = (p: string) =>
    p
      .replace(/\{externalId\}/g, input.externalId.toLowerCase())
      .replace(/\{given\}/g, given)
      .replace(/\{family\}/g, family)
      .replace(/\{domain\}/g, input.domain.toLowerCase());
  // A name that folds to nothing would leave `.`, `.2`, `.@…` (a username anyone can guess, an
  // address no mail system takes): the local part is then the fallback instead, the same at every
  // import and for the username and the address.
  const at = pattern.indexOf('@');
  const local = at === -1 ? pattern : pattern.slice(0, at);
  if ((local.includes('{given}') && !given) || (local.includes('{family}') && !family)) {
    return `${input.fallback ?? foldedExternalId(input.externalId)}${at === -1 ? '' : render(pattern.slice(at))}`;
  }
  return render(pattern);
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
