import { z } from 'zod';
import type { LocalizedText } from '../../config/institution-schema.js';
import type { FieldSpec } from '../kernel/types.js';
import { secret, text } from '../kernel/input.js';

/** login: awaiting_credentials → completed. */
export const states = ['awaiting_credentials', 'completed'] as const;

export interface LoginData {
  /** A local path to return to after signing in (validated: same site only). */
  returnTo?: string;
  /** Set when the login serves an OpenID Connect interaction. */
  interactionUid?: string;
  /** The campus service the person signs in to, when the login serves an interaction. */
  serviceName?: LocalizedText;
  /** The username the service suggested (`login_hint`), shown in the username field. */
  loginHint?: string;
  /** Set after a correct password for an account whose registration is not confirmed yet. */
  unverified?: { accountId: string; username: string; email: string; givenName: string };
  verificationResentTo?: string;
}

/** The interaction a return address resumes (`/oidc/interaction/<uid>/login`), if any. */
export function interactionOf(returnTo: string | undefined): string | undefined {
  return returnTo ? /^\/oidc\/interaction\/([A-Za-z0-9_-]{10,64})\/login$/.exec(returnTo)?.[1] : undefined;
}

export const credentialsInput = z.object({ username: text(120), password: secret() });

export const fields: FieldSpec[] = [
  { name: 'username', type: 'text', required: true, autocomplete: 'username', hint: 'login.usernameHelp', maxLength: 120 },
  { name: 'password', type: 'password', required: true, autocomplete: 'current-password', hint: 'form.showPassword' },
];

/**
 * Offered with the credentials once they showed a registration whose address is not confirmed: the
 * right address, when the one the link went to is wrong (unimi: "check the address and correct it").
 */
export const correctEmailField: FieldSpec = { name: 'email', type: 'email', required: false, autocomplete: 'email', maxLength: 254 };

const SITE = 'https://site.invalid';

/**
 * Only same-site paths are accepted as a return address (no open redirects). The address is read
 * as a browser reads it (the URL standard drops tabs and line breaks and turns `\` into `/`, so
 * `/<TAB>/evil.example` is another site): it must start with one `/`, hold no control
 * character, space or backslash, and still be on this site once parsed (its parsed path starting
 * with one `/` too). What is kept is the parsed path, query and fragment.
 */
export function safeReturnTo(v: unknown): string | undefined {
  // A parameter given twice arrives as a list: no return address, as any other malformed one.
  if (typeof v !== 'string' || !v || v.length > 500 || !v.startsWith('/') || v.startsWith('//') || /[\u0000-\u0020\u007f-\u009f\\]/.test(v)) return undefined;
  let u: URL;
  try {
    u = new URL(v, SITE);
  } catch {
    return undefined;
  }
  // Dot segments are resolved by the parser: `/..//evil.example` becomes `//evil.example`, which a
  // browser reads as another site.
  if (u.origin !== SITE || u.pathname.startsWith('//')) return undefined;
  return `${u.pathname}${u.search}${u.hash}`;
}
