import type { Kysely } from 'kysely';
import type { InstitutionConfig } from '../config/institution-schema.js';
import type { Database } from '../db/schema.js';
import type { ProvisionedAccount } from '../ports/provisioning-target.js';

/**
 * What a target should hold for an account:
 * - present: the entry, sign-in allowed (active accounts);
 * - locked: the entry, sign-in refused (suspended, locked, expired);
 * - hold: never created for it; an entry left from an earlier life is locked (not yet activated);
 * - absent: no entry (purged, unknown, or not a population the target serves).
 */
export type Desired = { kind: 'present' | 'locked' | 'hold'; account: ProvisionedAccount } | { kind: 'absent' };

const gib = 1024 ** 3;
/** Default mailbox quota when the population sets none: 7 GB for students (uniupo). */
export const defaultQuotaGb: Partial<Record<string, number>> = { student: 7 };

/** The mailbox quota of a population in bytes, or null when it has none. */
export function quotaBytes(config: InstitutionConfig, population: string | null): number | null {
  if (!population) return null;
  const gb = (config.populations as Record<string, { mailQuotaGb?: number } | undefined>)[population]?.mailQuotaGb ?? defaultQuotaGb[population];
  return gb === undefined ? null : Math.round(gb * gib);
}

export interface AccountRow {
  id: string;
  username: string;
  email: string | null;
  status: string;
  password_hash: string | null;
  federated_only: number;
  given_name: string | null;
  family_name: string | null;
  population: string | null;
}

/** Selects what `desiredFor` needs for accounts; chain `.where(...)` on it. */
export function accountRows(db: Kysely<Database>) {
  return db
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .select([
      'accounts.id',
      'accounts.username',
      'accounts.email',
      'accounts.status',
      'accounts.password_hash',
      'accounts.federated_only',
      'persons.given_name',
      'persons.family_name',
      'persons.population',
    ]);
}

/** What a target serving `populations` (null: all) should hold for the account in `row`. */
export function desiredFor(config: InstitutionConfig, populations: string[] | null, row: AccountRow | undefined): Desired {
  if (!row || row.status === 'purged') return { kind: 'absent' };
  if (populations && (!row.population || !populations.includes(row.population))) return { kind: 'absent' };
  const kind = row.status === 'active' ? 'present' : ['suspended', 'locked', 'expired'].includes(row.status) ? 'locked' : 'hold';
  return {
    kind,
    account: {
      username: row.username,
      email: row.email,
      givenName: row.given_name ?? '',
      familyName: row.family_name ?? row.username,
      population: row.population,
      mailQuotaBytes: quotaBytes(config, row.population),
      suspended: kind !== 'present',
      // An account that signs in only with SPID has no password anywhere else either.
      passwordHash: row.federated_only === 1 ? null : row.password_hash,
    },
  };
}
