/**
 * Eligibility of school staff (teachers and ATA) for an institutional mailbox, item by item, as
 * the ministry lists the requirements. Pure: the caller gathers the facts.
 */
export const eligibilityItems = ['account_active', 'istanze_online', 'personal_email', 'identity_document', 'tax_code', 'contract'] as const;
export type EligibilityItem = (typeof eligibilityItems)[number];

export const documentTypes = ['identity_card', 'passport', 'driving_licence'] as const;

export interface EligibilityFacts {
  accountStatus: string;
  entitlements: string[];
  /** The entitlement standing for the "Istanze OnLine" service. */
  istanzeEntitlement: string;
  personalEmail: string | null;
  /** False when the personal address was declared but not yet confirmed. */
  personalEmailVerified: boolean;
  recordTaxCode: string | null;
  contractType: string | null;
  document: { type: string | null; number: string | null; issuer: string | null; expiry: string | null };
  givenTaxCode: string | null;
  /** Today's date as YYYY-MM-DD. */
  today: string;
}

const normalizeTaxCode = (s: string | null) => (s ?? '').replace(/\s+/g, '').toUpperCase();

/** The failing items, in the order the ministry lists them; none means eligible. */
export function checkEligibility(f: EligibilityFacts): EligibilityItem[] {
  const failing: EligibilityItem[] = [];
  if (f.accountStatus !== 'active') failing.push('account_active');
  if (!f.entitlements.includes(f.istanzeEntitlement)) failing.push('istanze_online');
  if (!f.personalEmail || !f.personalEmailVerified) failing.push('personal_email');
  const d = f.document;
  const documentOk =
    d.type !== null &&
    (documentTypes as readonly string[]).includes(d.type) &&
    !!d.number &&
    !!d.issuer &&
    d.expiry !== null &&
    /^\d{4}-\d{2}-\d{2}$/.test(d.expiry) &&
    d.expiry >= f.today;
  if (!documentOk) failing.push('identity_document');
  const given = normalizeTaxCode(f.givenTaxCode);
  if (!given || given !== normalizeTaxCode(f.recordTaxCode)) failing.push('tax_code');
  if (f.contractType === 'short_term_substitute') failing.push('contract');
  return failing;
}
