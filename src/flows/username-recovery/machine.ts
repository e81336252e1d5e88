import { z } from 'zod';
import { emailInput } from '../registration/machine.js';
import type { FieldSpec } from '../kernel/types.js';

/** username-recovery: awaiting_email → completed {} (the same answer whether or not the address is known). */
export const states = ['awaiting_email', 'completed'] as const;
export type UsernameRecoveryData = Record<string, never>;
export const emailOnly = z.object({ email: emailInput() });
export const fields: FieldSpec[] = [{ name: 'email', type: 'email', required: true, autocomplete: 'email', maxLength: 254 }];
