import { z } from 'zod';
import type { FieldSpec } from '../kernel/types.js';
import { secret, text } from '../kernel/input.js';

/** login: awaiting_credentials → completed. */
export const states = ['awaiting_credentials', 'completed'] as const;

export interface LoginData {
  /** A local path to return to after signing in (validated: same site only). */
  returnTo?: string;
  /** Set when the login serves an OpenID Connect interaction. */
  interactionUid?: string;
  /** Set after a correct password for an account whose registration is not confirmed yet. */
  unverified?: { accountId: string; username: string; email: string; givenName: string };
  verificationResentTo?: string;
}

export const credentialsInput = z.object({ username: text(120), password: secret() });

export const fields: FieldSpec[] = [
  { name: 'username', type: 'text', required: true, autocomplete: 'username', hint: 'login.usernameHelp', maxLength: 120 },
  { name: 'password', type: 'password', required: true, autocomplete: 'current-password', hint: 'form.showPassword' },
];

/** Only same-site paths are accepted as a return address (no open redirects). */
export function safeReturnTo(v: string | undefined): string | undefined {
  if (!v || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\') || v.length > 500) return undefined;
  return v;
}
