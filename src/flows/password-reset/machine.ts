import { z } from 'zod';
import { secret, text } from '../kernel/input.js';
import type { FieldSpec } from '../kernel/types.js';

/**
 * password-reset: awaiting_identifier → awaiting_code → awaiting_password → completed {username}.
 * An unknown identifier goes to awaiting_code all the same and no code exists ("pretend"), so the
 * answers never tell whether an account exists.
 */
export const states = ['awaiting_identifier', 'awaiting_code', 'awaiting_password', 'completed'] as const;

export interface PasswordResetData {
  /** Server-side only (never in the flow's view): the account, when the identifier matched one. */
  accountId?: string;
  codeVerified?: boolean;
}

export const CODE_TTL_MINUTES = 15;
export const MAX_CODE_ATTEMPTS = 5;

export const identifierInput = z.object({ identifier: text(254) });
export const codeInput = z.object({ code: z.string({ error: 'field.required' }).trim().min(1, 'field.required').max(20, 'reset.code_invalid') });
export const passwordInput = z.object({ password: secret(), passwordConfirm: secret() });

export const identifierFields: FieldSpec[] = [{ name: 'identifier', type: 'text', required: true, autocomplete: 'username', maxLength: 254 }];
export const codeFields: FieldSpec[] = [{ name: 'code', type: 'text', required: true, autocomplete: 'one-time-code', maxLength: 20 }];
export const passwordFields = (hint: string): FieldSpec[] => [
  { name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint },
  { name: 'passwordConfirm', type: 'password', required: true, autocomplete: 'new-password' },
];
