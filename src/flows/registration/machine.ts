import { z } from 'zod';
import { NAME_MAX_LENGTH, nameProblem } from '../../domain/person-fields.js';
import { consentField, PRIVACY_CONSENT, type KeepsShownConsents } from '../kernel/consents.js';
import { secret, text } from '../kernel/input.js';
import type { FieldSpec } from '../kernel/types.js';

/**
 * registration: awaiting_details → awaiting_verification (token; actions resend, change_email)
 * → completed {username, status}. A registration whose link lifetime passed is void: the flow
 * stays in awaiting_verification, offers no action and answers `registration.link_expired` (410)
 * to anything sent; `voided` is set once that has been answered.
 */
export const states = ['awaiting_details', 'awaiting_verification', 'completed'] as const;

/** `shownConsents`: the versions the details step showed, recorded when it is sent (kernel/consents.ts). */
export interface RegistrationData extends KeepsShownConsents {
  accountId?: string;
  username?: string;
  email?: string;
  givenName?: string;
  /** When the registration's link lifetime ends (ISO-8601); resending does not extend it. */
  linkExpiresAt?: string;
  voided?: boolean;
  resentTo?: string;
}

export const registrantTypes = ['person', 'institution', 'school', 'company'] as const;
export type RegistrantType = (typeof registrantTypes)[number];

/** Lowercase letters, digits, dot, hyphen, underscore; starts with a letter. */
export const usernameInput = () =>
  z
    .string({ error: 'field.required' })
    .trim()
    .toLowerCase()
    .min(1, 'field.required')
    .regex(/^[a-z][a-z0-9._-]{2,39}$/, 'username.invalid');

export const emailInput = () => z.string({ error: 'field.required' }).trim().min(1, 'field.required').max(254, 'field.too_long').pipe(z.email('email.invalid'));

/**
 * A given or family name: no control characters or line breaks (`field.control_character`), no web
 * or email address (`name.invalid`), at most NAME_MAX_LENGTH characters (`field.too_long`).
 * The activation email greets the person with it.
 */
export const nameInput = () =>
  text(NAME_MAX_LENGTH).superRefine((v, c) => {
    const problem = nameProblem(v);
    if (problem) c.addIssue({ code: 'custom', message: problem });
  });

export const detailsInput = z.object({
  username: usernameInput(),
  password: secret(),
  passwordConfirm: secret(),
  givenName: nameInput(),
  familyName: nameInput(),
  birthDate: z.string({ error: 'field.required' }).pipe(z.iso.date('date.invalid')),
  mobile: text(40),
  email: emailInput(),
  // `consents` (the privacy notice's acceptance and the institution's further choices) is read
  // and checked as every step's consents are (kernel/consents.ts).
  registrantType: z.enum(registrantTypes, 'field.invalid').default('person'),
});

export const tokenInput = z.object({ token: z.string({ error: 'field.required' }).trim().min(1, 'field.required').max(200, 'field.invalid') });
export const changeEmailInput = z.object({ email: emailInput() });

/**
 * The input of a consent of the details step: `consents` for the privacy notice's acceptance (its
 * name since registration began), `consents.<id>` for the institution's further ones.
 */
export const consentInputName = (id: string) => (id === PRIVACY_CONSENT ? 'consents' : consentField(id));

/** The details step's fields; `consents`: the privacy checkbox first, then the further consents. */
export function detailsFields(policyHint: string, registrantOptions: Array<{ value: string; label: string }>, consents: FieldSpec[]): FieldSpec[] {
  return [
    { name: 'username', type: 'text', required: true, autocomplete: 'username', hint: 'registration.usernameHelp', maxLength: 40 },
    { name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: policyHint },
    { name: 'passwordConfirm', type: 'password', required: true, autocomplete: 'new-password' },
    { name: 'givenName', type: 'text', required: true, autocomplete: 'given-name', maxLength: NAME_MAX_LENGTH },
    { name: 'familyName', type: 'text', required: true, autocomplete: 'family-name', maxLength: NAME_MAX_LENGTH },
    { name: 'birthDate', type: 'date', required: true, autocomplete: 'bday' },
    { name: 'mobile', type: 'tel', required: true, autocomplete: 'tel', hint: 'registration.mobileHelp', maxLength: 40 },
    { name: 'email', type: 'email', required: true, autocomplete: 'email', hint: 'registration.emailHelp', maxLength: 254 },
    { name: 'registrantType', type: 'radio', required: false, options: registrantOptions },
    ...consents,
  ];
}

export const verificationFields: FieldSpec[] = [
  { name: 'token', type: 'text', required: true, autocomplete: 'one-time-code', hint: 'registration.tokenHelp', maxLength: 200 },
  { name: 'email', type: 'email', required: false, autocomplete: 'email', maxLength: 254 },
];

/** The emailed token: the account it activates, a dot, and the one-time code. */
export function parseToken(token: string): { subject: string; code: string } | null {
  const m = /^([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{16,100})$/.exec(token.trim());
  return m ? { subject: m[1]!, code: m[2]! } : null;
}
