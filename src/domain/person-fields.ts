import { z } from 'zod';

/**
 * Small checks of registrar fields. Each returns the normalised value, or null when the value is
 * not valid; the importer turns null into the field code named on each function.
 */

const emailSchema = z.email();

/** Trimmed email address; the domain is lower-cased (the local part is kept). Code `email.invalid`. */
export function normaliseEmail(input: string): string | null {
  const v = input.trim();
  if (v.length > 254 || !emailSchema.safeParse(v).success) return null;
  const at = v.lastIndexOf('@');
  return `${v.slice(0, at)}@${v.slice(at + 1).toLowerCase()}`;
}

/** A real calendar date written YYYY-MM-DD, between 1900 and 2100. Code `date.invalid`. */
export function normaliseDate(input: string): string | null {
  const v = input.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2100 || mo < 1 || mo > 12 || d < 1) return null;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate() ? v : null;
}

/** A school year such as `2026/27` (the second year follows the first). Code `field.invalid`. */
export function normaliseSchoolYear(input: string): string | null {
  const m = /^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$/.exec(input.trim());
  if (!m) return null;
  const first = Number(m[1]);
  const second = m[2]!.length === 2 ? Number(m[2]) : Number(m[2]) % 100;
  if ((first + 1) % 100 !== second) return null;
  return `${first}/${String(second).padStart(2, '0')}`;
}

/** The ministry's school code (codice meccanografico), e.g. `RMIC8A100X`. Code `field.invalid`. */
export function normaliseSchoolCode(input: string): string | null {
  const v = input.trim().toUpperCase();
  return /^[A-Z]{4}[A-Z0-9]{6}$/.test(v) ? v : null;
}

/**
 * What a person's name may not hold: control characters (C0, DEL, C1: line breaks, tabs, NUL…),
 * the Unicode line and paragraph separators, the invisible marks that reorder or hide text
 * (bidirectional overrides and isolates, zero-width spaces), and U+FFFD (text that was not valid).
 */
const nameControl = /[\u0000-\u001f\u007f-\u009f\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff\ufffd]/;
/** Whether a name holds a control character or an invisible mark that reorders or hides text. */
export const hasNameControl = (v: string): boolean => nameControl.test(v);

/** Marks of a web or email address (a scheme, "www.", "@", a slash or angle brackets): a name never holds one. */
const nameAddress = /:\/\/|www\.|[@/\\<>]/i;

/** Longest given or family name accepted from a person typing it in. */
export const NAME_MAX_LENGTH = 64;

/**
 * Why a name typed in by a person (given or family name) is refused, or null when it is fine.
 * Codes: `field.control_character`, `name.invalid` (a web or email address), `field.too_long`.
 * Emails greet a person by name only when this returns null.
 */
export function nameProblem(input: string, max = NAME_MAX_LENGTH): 'field.control_character' | 'name.invalid' | 'field.too_long' | null {
  const v = input.trim();
  if (nameControl.test(v)) return 'field.control_character';
  if (nameAddress.test(v)) return 'name.invalid';
  if (v.length > max) return 'field.too_long';
  return null;
}
