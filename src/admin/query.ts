import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { FieldCode } from '../errors/catalog.js';

/**
 * A yes/no query parameter: `true`/`false` in any case, or `1`/`0`. Anything else (`yes`, `on`,
 * a bare `?dryRun`, a repeated parameter) is refused rather than read as "no": for `dryRun`, a
 * misread "no" would run a destructive job for real.
 */
export const booleanParam = z
  .string()
  .regex(/^(?:true|false|1|0)$/i)
  .transform((v) => v === '1' || v.toLowerCase() === 'true');

/** A page size: a plain decimal number from 1 to `max` (not `1e2`, not `0x10`). */
export const limitParam = (max: number) =>
  z
    .string()
    .regex(/^[1-9]\d{0,5}$/)
    .transform(Number)
    .refine((n) => n <= max);

const isFieldCode = (message: string): message is FieldCode => /^field\.[a-z_]+$/.test(message);

/** Understood by every route: the language of the messages. */
const commonParams = { lang: z.string().optional() };

/**
 * Parses the query of an administration route strictly: each parameter must be known and valid,
 * so a misspelt one (`?dryrun=true`) is refused instead of silently ignored. Fails with `code`
 * naming every bad field (`field.unknown` for unknown ones; the `field.*` code a schema gives as
 * its message; else `field.invalid` or `invalid(name)`), before the route does anything.
 */
export function parseAdminQuery<S extends z.ZodRawShape>(
  query: unknown,
  shape: S,
  opts: { code?: 'validation.failed' | 'request.invalid'; invalid?: (field: string) => FieldCode } = {},
): z.infer<z.ZodObject<S>> {
  const parsed = z.strictObject({ ...commonParams, ...shape }).safeParse(query ?? {});
  if (parsed.success) return parsed.data as z.infer<z.ZodObject<S>>;
  const fields: Record<string, FieldCode> = {};
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') for (const k of issue.keys) fields[k] ??= 'field.unknown';
    else {
      const name = String(issue.path[0] ?? 'query');
      // A schema may name the code itself (as flow inputs do: kernel/input.ts), e.g. `field.too_long`.
      fields[name] ??= isFieldCode(issue.message) ? issue.message : (opts.invalid?.(name) ?? 'field.invalid');
    }
  }
  throw new AppError(opts.code ?? 'validation.failed', { fields });
}
