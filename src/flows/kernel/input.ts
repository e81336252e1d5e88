import { z } from 'zod';

/**
 * Turns a submitted input (JSON or form) into typed values with a zod schema; failures become
 * field codes (`field.required`, `field.too_long`, or the code a schema names as its message).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
): { ok: true; value: z.infer<S> } | { ok: false; fields: Record<string, string> } {
  const cleaned: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (k === 'action' || k === '_csrf') continue;
    // An empty string (a form's blank field) or an explicit JSON null means "not given".
    cleaned[k] = v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v;
  }
  const res = schema.safeParse(cleaned);
  if (res.success) return { ok: true, value: res.data };
  const fields: Record<string, string> = {};
  for (const issue of res.error.issues) {
    // A strict schema names each key it does not know.
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) fields[k] ??= 'field.invalid';
      continue;
    }
    const name = String(issue.path[0] ?? '_');
    if (fields[name]) continue;
    // Sent, but not of the type the field takes (a PIN as a JSON number): invalid, not missing.
    if (issue.code === 'invalid_type' && cleaned[name] !== undefined) fields[name] = 'field.invalid';
    else if (/^[a-z_]+\.[a-z_]+$/.test(issue.message)) fields[name] = issue.message;
    else if (issue.code === 'invalid_type' && cleaned[name] === undefined) fields[name] = 'field.required';
    else if (issue.code === 'too_big') fields[name] = 'field.too_long';
    else fields[name] = 'field.invalid';
  }
  return { ok: false, fields };
}

/**
 * Control characters (C0, DEL, C1) and invisible format marks (text-direction overrides,
 * zero-width spaces): never part of a single-line value a person types. A NUL also cannot be
 * stored by PostgreSQL, which failed the whole request (500) where SQLite went on. The zero-width
 * joiner and non-joiner are letters' business, not marks to refuse: Persian, Arabic and Indic
 * names are written with them (as a name's own rule, nameProblem, allows them).
 */
export const controlCharacter = /(?![\u200c\u200d])[\p{Cc}\p{Cf}]/u;
/**
 * What a text of several lines (a message, a comment) may not hold: control characters other than
 * tab and line breaks, and the marks that reverse the direction of what others read.
 */
export const controlInLines = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** A required single-line text, trimmed, at most `max` characters, without control characters (`field.control_character`). */
export const text = (max = 200) =>
  z
    .string({ error: 'field.required' })
    .trim()
    .min(1, 'field.required')
    .max(max, 'field.too_long')
    .refine((v) => !controlCharacter.test(v), 'field.control_character');
/** A password: never trimmed (spaces count), at most 1024 characters. */
export const secret = () => z.string({ error: 'field.required' }).min(1, 'field.required').max(1024, 'field.too_long');
/**
 * A yes-or-no value as a form or JSON gives it: true for true/"true"/"on"/"1"; false for
 * false/"false"/"0"/"" and for nothing at all (an unticked box sends nothing); null for a value
 * that says neither (`"yes"`, `5`, an object), which is never read as a refusal nor as a yes.
 */
export function yesOrNo(v: unknown): boolean | null {
  if (v === true || v === 'true' || v === 'on' || v === '1') return true;
  if (v === undefined || v === null || v === false || v === 'false' || v === '0' || v === '') return false;
  return null;
}
/** A checkbox: true or false as yesOrNo reads it; any other value is `field.invalid`. */
export const checkbox = () => z.preprocess((v) => yesOrNo(v) ?? v, z.boolean());
