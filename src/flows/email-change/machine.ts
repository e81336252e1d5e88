import { z } from 'zod';
import { emailInput } from '../registration/machine.js';
import type { FieldSpec } from '../kernel/types.js';

/** email-change (needs a session): awaiting_email → awaiting_confirmation (token; action resend) → completed {email}. */
export const states = ['awaiting_email', 'awaiting_confirmation', 'completed'] as const;

export interface EmailChangeData {
  newEmail?: string;
}

export const CONFIRM_PURPOSE = 'email_change';
export const LINK_HOURS = 24;

export const newEmailInput = z.object({ email: emailInput() });
export const emailFields: FieldSpec[] = [{ name: 'email', type: 'email', required: true, autocomplete: 'email', maxLength: 254 }];
// The email carries a link only: the hint says where its code is (as on the registration's step).
export const tokenFields: FieldSpec[] = [{ name: 'token', type: 'text', required: true, autocomplete: 'one-time-code', hint: 'registration.tokenHelp', maxLength: 200 }];
