import { randomInt } from 'node:crypto';
import type { AppContext } from '../app/context.js';
import { checkPasswordPolicy } from '../domain/password-policy.js';

// No look-alike characters (0/O, 1/l/I), so a suggestion can be copied by hand without mistakes.
const LOWER = 'abcdefghijkmnpqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '-_.!?';

const pick = (set: string) => set[randomInt(set.length)]!;

function candidate(length: number): string {
  // Groups of four separated by a dash are easier to read back; every class appears at least once.
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS)];
  const all = LOWER + UPPER + DIGITS;
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += 4) groups.push(chars.slice(i, i + 4).join(''));
  return groups.join(pick(SYMBOLS));
}

/**
 * `count` strong passwords from the operating system's random source, each passing the
 * institution's policy (and not containing `username`). At least 16 random characters
 * (over 90 bits) whatever the policy's minimum.
 */
export function suggestPasswords(ctx: AppContext, count = 3, username?: string): string[] {
  const policy = ctx.config.passwordPolicy;
  let length = Math.max(16, policy.minLength);
  // Separators count towards the maximum length too.
  while (length > 8 && length + Math.ceil(length / 4) - 1 > policy.maxLength) length--;
  const out: string[] = [];
  while (out.length < count) {
    const c = candidate(length);
    if ([...c].length > policy.maxLength) continue;
    if (checkPasswordPolicy(c, policy, { username, isCommon: ctx.isCommonPassword }).length === 0 && !out.includes(c)) out.push(c);
  }
  return out;
}
