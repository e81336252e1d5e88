import type { AppContext } from '../app/context.js';
import { checkPasswordPolicy } from '../domain/password-policy.js';
import type { StepOutcome } from '../flows/kernel/types.js';

type Failure = Extract<StepOutcome<never>, { ok: false }>;

/**
 * Checks a new password and its confirmation against the institution's policy.
 * Produces `password.same_as_current` (with `current`, the password it replaces), `password.mismatch`
 * and `password.policy` (with one detail line per broken rule).
 */
export function checkNewPassword(
  ctx: AppContext,
  password: string,
  confirm: string,
  opts: { username?: string | undefined; field?: string; confirmField?: string; current?: string | undefined },
): Failure | null {
  const field = opts.field ?? 'newPassword';
  // A new password the same as the one it replaces (the enrolment password, the current one)
  // would leave the old secret in use; said before any hash is computed.
  if (opts.current !== undefined && password === opts.current) {
    return { ok: false, code: 'password.same_as_current', fields: { [field]: 'password.same_as_current' } };
  }
  const violations = checkPasswordPolicy(password, ctx.config.passwordPolicy, {
    username: opts.username,
    isCommon: ctx.isCommonPassword,
  });
  if (violations.length > 0) {
    return {
      ok: false,
      code: 'password.policy',
      fields: { [field]: 'password.policy' },
      details: violations.map((v) => ({
        key: `password.policy.${v}`,
        params: { min: ctx.config.passwordPolicy.minLength, max: ctx.config.passwordPolicy.maxLength },
        field,
      })),
    };
  }
  if (password !== confirm) {
    return { ok: false, code: 'password.mismatch', fields: { [opts.confirmField ?? `${field}Confirm`]: 'password.mismatch' } };
  }
  return null;
}

/** The policy as one sentence for a hint under the password field. */
export function policyHint(ctx: AppContext, t: (k: string, p?: Record<string, string | number>) => string): string {
  const p = ctx.config.passwordPolicy;
  return t('password.rules', {
    min: p.minLength,
    upper: p.requireUppercase ? t('password.rules.upper') : '',
    digit: p.requireDigit ? t('password.rules.digit') : '',
  });
}
