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
