import { z } from 'zod';
import { normaliseCodiceFiscale } from '../../domain/codice-fiscale.js';
import { normaliseDate } from '../../domain/person-fields.js';
import { documentTypes } from '../../mailboxes/eligibility.js';
import { controlCharacter, text } from '../kernel/input.js';
import type { FieldSpec } from '../kernel/types.js';

/**
 * mailbox-request (needs a session): awaiting_details → awaiting_approval (staff, or school staff
 * where the institution routes them to a referent) → completed; or awaiting_details → completed
 * (eligible school staff). A referent's decision or the expiry job completes a waiting flow.
 */
export const states = ['awaiting_details', 'awaiting_approval', 'completed'] as const;

export interface MailboxRequestData {
  population: 'staff' | 'school_staff';
  officeName?: string | null;
  requestId?: string;
}

// Read by the referents (the note): without control characters, as every single-line text.
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, 'field.too_long')
    .refine((v) => !controlCharacter.test(v), 'field.control_character')
    .optional();

export const staffInput = z.object({ note: optionalText(500) });

export const schoolStaffInput = z.object({
  documentType: z.enum(documentTypes, { error: (iss) => (iss.input === undefined ? 'field.required' : 'field.invalid') }),
  documentNumber: text(40),
  documentIssuer: text(120),
  // A day of the calendar: Date.parse would take 31 February for 3 March.
  documentExpiry: z.string({ error: 'field.required' }).regex(/^\d{4}-\d{2}-\d{2}$/, 'date.invalid').refine((s) => normaliseDate(s) !== null, 'date.invalid'),
  // A person's 16-character code is checked (shape, check character) before it is compared with the record.
  taxCode: z
    .string({ error: 'field.required' })
    .trim()
    .regex(/^[A-Za-z0-9]{11,16}$/, 'tax_code.invalid')
    .refine((s) => s.length !== 16 || normaliseCodiceFiscale(s) !== null, 'tax_code.invalid'),
});

export function fields(population: MailboxRequestData['population'], t: (k: string) => string): FieldSpec[] {
  if (population === 'staff') return [{ name: 'note', type: 'text', required: false, maxLength: 500, label: 'mailbox.field.note' }];
  return [
    {
      name: 'documentType',
      type: 'select',
      required: true,
      label: 'mailbox.field.documentType',
      options: documentTypes.map((d) => ({ value: d, label: t(`mailbox.document.${d}`) })),
    },
    { name: 'documentNumber', type: 'text', required: true, maxLength: 40, label: 'mailbox.field.documentNumber' },
    { name: 'documentIssuer', type: 'text', required: true, maxLength: 120, label: 'mailbox.field.documentIssuer' },
    { name: 'documentExpiry', type: 'date', required: true, label: 'mailbox.field.documentExpiry' },
    { name: 'taxCode', type: 'text', required: true, maxLength: 16, autocomplete: 'off', label: 'mailbox.field.taxCode' },
  ];
}
