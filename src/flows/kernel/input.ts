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

/** A required single-line text, trimmed, at most `max` characters. */
export const text = (max = 200) => z.string({ error: 'field.required' }).trim().min(1, 'field.required').max(max, 'field.too_long');
/** A password: never trimmed (spaces count), at most 1024 characters. */
export const secret = () => z.string({ error: 'field.required' }).min(1, 'field.required').max(1024, 'field.too_long');
/** A checkbox: true for "on"/"true"/true. */
export const checkbox = () =>
  z.preprocess((v) => v === true || v === 'true' || v === 'on' || v === '1', z.boolean());
