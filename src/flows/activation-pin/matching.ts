import type { Kysely } from 'kysely';
import type { PopulationId } from '../../config/institution-schema.js';
import type { AppContext } from '../../app/context.js';
import type { Database } from '../../db/schema.js';

export interface MatchInput {
  /** E.164, already normalised. */
  mobile: string | null;
  /** Lowercased. */
  email: string | null;
}

export type MatchResult =
  | { kind: 'none' }
  | { kind: 'already_active'; personId: string; accountId: string }
  | {
      kind: 'match';
      personId: string;
      accountId: string;
      username: string;
      /** The contacts on file that matched: the PIN goes only there. */
      sms: string | null;
      email: string | null;
      needsNationalId: boolean;
    };

/** Populations whose configuration lets them activate with a PIN. */
export function pinPopulations(ctx: AppContext): PopulationId[] {
  return (Object.entries(ctx.config.populations) as Array<[PopulationId, { activation: string[] }]>)
    .filter(([, p]) => p.activation.includes('pin'))
    .map(([id]) => id);
}

/**
 * The records holding a mobile and/or a personal email, with their accounts. Only the phone and
 * email indexes narrow the search: a population condition here would let SQLite's planner walk
 * every record of the population instead (a full scan per activation at a large university), so
 * callers check the population on the few rows found.
 */
export function candidatesQuery(db: Kysely<Database>, m: MatchInput) {
  return db
    .selectFrom('persons')
    .innerJoin('accounts', 'accounts.person_id', 'persons.id')
    .select([
      'persons.id as personId',
      'persons.mobile',
      'persons.personal_email_lower as emailLower',
      'persons.personal_email as email',
      'persons.registrar_status as registrarStatus',
      'persons.amka',
      'persons.tax_code as taxCode',
      'persons.insurance_number as insuranceNumber',
      'accounts.id as accountId',
      'accounts.status',
      'accounts.username',
      'persons.population',
    ])
    .where((eb) => {
      const ors = [];
      if (m.mobile) ors.push(eb('persons.mobile', '=', m.mobile));
      if (m.email) ors.push(eb('persons.personal_email_lower', '=', m.email));
      return eb.or(ors);
    })
    .limit(50);
}

/**
 * Finds the registrar record behind a mobile and/or a personal email. When both are given, a
 * record holding both wins; otherwise exactly one record must hold one of them (two records
 * sharing a phone are ambiguous and match nothing). A provisional record, or one without an
 * account waiting for activation, matches nothing; an active account is reported as such.
 */
export async function matchRecord(ctx: AppContext, db: Kysely<Database>, m: MatchInput): Promise<MatchResult> {
  const pops = pinPopulations(ctx);
  if (pops.length === 0 || (!m.mobile && !m.email)) return { kind: 'none' };
  const rows = await candidatesQuery(db, m)
    .execute()
    .then((found) => found.filter((r) => (pops as string[]).includes(r.population)));
  const holdsMobile = (r: (typeof rows)[number]) => m.mobile !== null && r.mobile === m.mobile;
  const holdsEmail = (r: (typeof rows)[number]) => m.email !== null && r.emailLower === m.email;
  let chosen = m.mobile && m.email ? rows.filter((r) => holdsMobile(r) && holdsEmail(r)) : [];
  if (chosen.length !== 1) chosen = rows;
  if (chosen.length !== 1) return { kind: 'none' };
  const r = chosen[0]!;
  if (r.registrarStatus === 'provisional') return { kind: 'none' };
  if (r.status === 'active') return { kind: 'already_active', personId: r.personId, accountId: r.accountId };
  if (r.status !== 'pending_activation') return { kind: 'none' };
  return {
    kind: 'match',
    personId: r.personId,
    accountId: r.accountId,
    username: r.username,
    sms: holdsMobile(r) ? r.mobile : null,
    email: holdsEmail(r) ? r.email : null,
    // A national identifier on file: the AMKA, a foreign insurance number, or the Italian codice
    // fiscale (the number of the Italian health card).
    needsNationalId: !r.amka && !r.insuranceNumber && !r.taxCode,
  };
}
