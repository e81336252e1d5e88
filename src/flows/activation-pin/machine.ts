import { z } from 'zod';
import { checkbox, secret } from '../kernel/input.js';
import type { Locale } from '../../i18n/index.js';
import { consentFieldSpecs, type KeepsShownConsents, type ShownConsent } from '../kernel/consents.js';
import type { FieldSpec } from '../kernel/types.js';
import type { RecordSummary } from './record-summary.js';

/**
 * activation-pin (`uop`): awaiting_contact → awaiting_pin (resend) → awaiting_national_id (only
 * when the record lacks one) → awaiting_consent → awaiting_password → completed. Pure: no I/O.
 */
export const states = ['awaiting_contact', 'awaiting_pin', 'awaiting_national_id', 'awaiting_consent', 'awaiting_password', 'completed'] as const;
export type ActivationPinState = (typeof states)[number];

export const PIN_PURPOSE = 'activation_pin';

/** `shownConsents`: the versions `awaiting_consent` showed, recorded when it is sent (kernel/consents.ts). */
export interface ActivationPinData extends KeepsShownConsents {
  /** The matched record; null when nothing matched and the institution is enumeration-safe. */
  personId: string | null;
  accountId: string | null;
  /** Where PINs go: the contacts on file that matched what the person typed. */
  sendSms: string | null;
  sendEmail: string | null;
  /** Masked destinations shown to the person, e.g. `sms:+30 69** *** *67`. */
  destinations: string[];
  /** What the person typed (prefills a helpdesk ticket). */
  contact: string | null;
  needsNationalId: boolean;
  idMode: 'amka' | 'insurance';
  username: string | null;
  suggestions: string[];
  /** Set after a resend, so the page can say so. */
  resent: boolean;
  /** The data on file shown for checking at `awaiting_consent` (masked ids); dropped on completion. */
  record?: RecordSummary | null;
  /**
   * Enumeration-safe mode: keyed hashes of the contacts typed, on which the hourly PIN cap is
   * counted whether or not they are on file.
   */
  capKeys?: string[];
}

export const contactInput = z.object({
  mobile: z.string().trim().max(40, 'field.too_long').optional(),
  email: z.string().trim().max(254, 'field.too_long').optional(),
});

export const pinInput = z.object({ pin: z.string({ error: 'field.required' }).max(20, 'field.too_long') });

export const nationalIdInput = z.object({
  amka: z.string().max(20, 'field.too_long').optional(),
  insuranceCountry: z.string().max(2, 'country.invalid').optional(),
  insuranceNumber: z.string().max(40, 'field.too_long').optional(),
});

export const consentInput = z.object({
  dataAccurate: checkbox(),
  consents: z.record(z.string(), z.unknown()).optional(),
});

export const passwordInput = z.object({
  password: secret().optional(),
  passwordConfirm: secret().optional(),
  suggestion: z.string().max(200).optional(),
});

/** A 6-digit PIN as typed (spaces allowed between digits); null when it cannot be one. */
export function cleanPin(s: string): string | null {
  const v = s.replace(/\s/g, '');
  return /^\d{6}$/.test(v) ? v : null;
}

/** `mobileHint`: the hint in the page's language, naming the institution's default country. */
export function contactFields(mobileHint = 'activation-pin.mobileHelp'): FieldSpec[] {
  return [
    { name: 'mobile', type: 'tel', required: false, autocomplete: 'tel', hint: mobileHint, maxLength: 40 },
    { name: 'email', type: 'email', required: false, autocomplete: 'email', hint: 'activation-pin.emailHelp', maxLength: 254 },
  ];
}

export const pinFields = (): FieldSpec[] => [{ name: 'pin', type: 'text', required: true, autocomplete: 'one-time-code', maxLength: 7, hint: 'activation-pin.pinHelp' }];

export function nationalIdFields(mode: 'amka' | 'insurance', countries: Array<{ value: string; label: string }>): FieldSpec[] {
  if (mode === 'amka') return [{ name: 'amka', type: 'text', required: true, maxLength: 11, hint: 'activation-pin.amkaHelp', autocomplete: 'off' }];
  return [
    { name: 'insuranceCountry', type: 'select', required: true, options: countries },
    { name: 'insuranceNumber', type: 'text', required: true, maxLength: 30, hint: 'activation-pin.insuranceHelp', autocomplete: 'off' },
  ];
}

export function consentFields(consents: ShownConsent[], locale: Locale): FieldSpec[] {
  return [
    ...consentFieldSpecs(consents, locale),
    { name: 'dataAccurate', type: 'checkbox', required: true, hint: 'activation-pin.dataAccurateHelp' },
  ];
}

export function passwordFields(policyHint: string, suggestions: string[]): FieldSpec[] {
  return [
    { name: 'password', type: 'password', required: true, autocomplete: 'new-password', hint: policyHint },
    { name: 'passwordConfirm', type: 'password', required: true, autocomplete: 'new-password' },
    ...(suggestions.length > 0
      ? [{ name: 'suggestion', type: 'radio', required: false, options: suggestions.map((s) => ({ value: s, label: s })), hint: 'activation-pin.suggestionHelp' } satisfies FieldSpec]
      : []),
  ];
}
