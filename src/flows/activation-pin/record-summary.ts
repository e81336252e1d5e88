import type { Kysely } from 'kysely';
import type { Person } from '../../accounts/types.js';
import type { Database } from '../../db/schema.js';
import { maskEmail } from '../../domain/email-mask.js';
import { maskPhone } from '../../domain/phone.js';

/**
 * The registrar's data a person checks before certifying that it is accurate: enough to
 * recognise the record, with identifiers and contacts masked. Shown as `data.person` at
 * `awaiting_consent`; kept in the flow only until the account is active.
 */
export interface RecordSummary {
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD, or null when the registrar has none. */
  birthDate: string | null;
  population: string;
  /** The office or department: its code and, when known, its name (the page shows the name). */
  orgUnit: { code: string; name: string | null } | null;
  /** Masked: only the last three characters show. */
  amka: string | null;
  taxCode: string | null;
  insurance: { country: string; number: string } | null;
  /** Masked like the PIN's destinations. */
  mobile: string | null;
  email: string | null;
}

/** An identifier with all but its last three characters hidden. */
export function maskIdentifier(s: string): string {
  const keep = s.length > 6 ? 3 : 1;
  return '*'.repeat(Math.max(0, s.length - keep)) + s.slice(-keep);
}

/**
 * The name of the office `code`: from the office list, else (school staff) the school's own
 * record, whose name the registrar gives; null when neither knows it.
 */
async function orgUnitName(db: Kysely<Database>, code: string): Promise<string | null> {
  const unit = await db.selectFrom('org_units').select('name').where('code', '=', code).executeTakeFirst();
  if (unit?.name) return unit.name;
  const school = await db.selectFrom('persons').select(['given_name', 'family_name']).where('population', '=', 'school').where('external_id', '=', code).executeTakeFirst();
  const name = school ? `${school.given_name} ${school.family_name}`.trim() : '';
  return name || null;
}

/** The summary of `person`, the office named when its name is known. */
export async function summarizeRecord(db: Kysely<Database>, person: Person): Promise<RecordSummary> {
  const unitName = person.orgUnit ? await orgUnitName(db, person.orgUnit) : null;
  return {
    givenName: person.givenName,
    familyName: person.familyName,
    birthDate: person.birthDate,
    population: person.population,
    orgUnit: person.orgUnit ? { code: person.orgUnit, name: unitName } : null,
    amka: person.amka ? maskIdentifier(person.amka) : null,
    taxCode: person.taxCode ? maskIdentifier(person.taxCode) : null,
    insurance: person.insuranceCountry && person.insuranceNumber ? { country: person.insuranceCountry, number: maskIdentifier(person.insuranceNumber) } : null,
    mobile: person.mobile ? maskPhone(person.mobile) : null,
    email: person.personalEmail ? maskEmail(person.personalEmail) : null,
  };
}
