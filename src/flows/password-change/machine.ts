import { z } from 'zod';
import { secret } from '../kernel/input.js';
import type { FieldSpec } from '../kernel/types.js';

/** password-change (needs a session): awaiting_passwords → completed. */
export const states = ['awaiting_passwords', 'completed'] as const;

export type PasswordChangeData = Record<string, never>;

export const passwordsInput = z.object({ currentPassword: secret(), newPassword: secret(), newPasswordConfirm: secret() });

export const fields = (policyHint: string): FieldSpec[] => [
  { name: 'currentPassword', type: 'password', required: true, autocomplete: 'current-password' },
  { name: 'newPassword', type: 'password', required: true, autocomplete: 'new-password', hint: policyHint },
  { name: 'newPasswordConfirm', type: 'password', required: true, autocomplete: 'new-password' },
];
