import type { PasswordPolicy } from '../config/institution-schema.js';

/** Why a password fails the policy; each reason has a message `password.policy.<reason>`. */
export type PolicyViolation = 'too_short' | 'too_long' | 'uppercase' | 'lowercase' | 'digit' | 'symbol' | 'common' | 'username';

/**
 * Checks a candidate password against the institution's policy. Pure: the common-password list
 * is passed in. Produces the violations behind `password.policy`.
 */
export function checkPasswordPolicy(
  password: string,
  policy: PasswordPolicy,
  ctx: { username?: string | undefined; isCommon: (lowercased: string) => boolean },
): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const length = [...password].length;
  if (length < policy.minLength) out.push('too_short');
  if (length > policy.maxLength) out.push('too_long');
  if (policy.requireUppercase && !/\p{Lu}/u.test(password)) out.push('uppercase');
  if (policy.requireLowercase && !/\p{Ll}/u.test(password)) out.push('lowercase');
  if (policy.requireDigit && !/\p{Nd}/u.test(password)) out.push('digit');
  if (policy.requireSymbol && !/[^\p{L}\p{Nd}]/u.test(password)) out.push('symbol');
  const lower = password.toLowerCase();
  if (policy.blockCommon && (ctx.isCommon(lower) || ctx.isCommon(lower.replace(/[\d!?.]+$/, '')))) out.push('common');
  const username = ctx.username?.toLowerCase();
  if (policy.forbidUsername && username && username.length >= 3 && lower.includes(username)) out.push('username');
  return out;
}
