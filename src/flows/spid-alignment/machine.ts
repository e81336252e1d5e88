import type { SpidIdentity } from '../../spid/response-check.js';

/** spid-alignment: awaiting_confirmation → completed (linked, or cancelled). */
export const states = ['awaiting_confirmation', 'completed'] as const;

/** The data compared side by side. */
export interface Comparable {
  givenName: string | null;
  familyName: string | null;
  birthDate: string | null;
  taxCode: string | null;
  email: string | null;
}
export const comparedFields = ['givenName', 'familyName', 'birthDate', 'taxCode', 'email'] as const;

export interface AlignmentData {
  accountId: string;
  personId: string;
  /** The account's version when the page was shown: a change in between refuses the step. */
  accountVersion: number;
  identity: SpidIdentity;
  onFile: Comparable;
  returnTo?: string;
  cancelled?: boolean;
}

export const spidSide = (i: SpidIdentity): Comparable => ({
  givenName: i.givenName,
  familyName: i.familyName,
  birthDate: i.birthDate,
  taxCode: i.taxCode,
  email: i.email,
});

/** What confirming writes: SPID values replace the local ones where SPID gives a value. */
export function alignedValues(onFile: Comparable, spid: Comparable): Comparable {
  return {
    givenName: spid.givenName ?? onFile.givenName,
    familyName: spid.familyName ?? onFile.familyName,
    birthDate: spid.birthDate ?? onFile.birthDate,
    taxCode: onFile.taxCode,
    email: spid.email ?? onFile.email,
  };
}
