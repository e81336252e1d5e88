import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { Dialect } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import type { RegistrarStatus } from '../domain/account-status.js';
import { idSet } from '../db/id-set.js';

/**
 * Registrar records Tessera purged. The registrar keeps sending a person whose record ended (a
 * ceased student stays in its file for years), and the import, finding no person under that
 * population and external id, would create them again the next night. A purge of such records
 * (expire-ceased) leaves a marker of each: an HMAC of (population, external id) under a key
 * derived from TESSERA_SECRET, when and why, nothing that names the person. The import skips a
 * row of a marked record while its status says the record ended, and creates the person anew (the
 * marker goes) when the registrar enrols them again.
 */

/** The marker key of a record: a keyed hash, so the table tells no one's external id. */
export const purgedRecordKey = (ctx: Pick<AppContext, 'secrets'>, population: string, externalId: string): string =>
  ctx.secrets.hmac('purged-record', `${population}\u0000${externalId}`);

/** Rows per statement (three values each). */
const CHUNK = 500;

/** Marks the records of `persons` purged, inside the purge's transaction (a record marked before gets the new date). */
export async function markRecordsPurged(
  tx: Kysely<Database>,
  ctx: Pick<AppContext, 'secrets'>,
  persons: ReadonlyArray<{ population: string; external_id: string }>,
  at: Date,
  reason: string,
): Promise<void> {
  const purgedAt = at.toISOString();
  const rows = persons.map((p) => ({ key: purgedRecordKey(ctx, p.population, p.external_id), purged_at: purgedAt, reason }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await tx
      .insertInto('purged_records')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ purged_at: eb.ref('excluded.purged_at'), reason: eb.ref('excluded.reason') })))
      .execute();
  }
}

/**
 * Of `keys` (marker keys, purgedRecordKey), those marked purged: one lookup by primary key for a
 * whole batch of an import.
 */
export async function findPurgedRecords(db: Kysely<Database>, dialect: Dialect, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.selectFrom('purged_records').select('key').where('key', 'in', idSet(dialect, keys)).execute();
  return new Set(rows.map((r) => r.key));
}

/** Whether any record was ever marked purged (one row read by the primary key's index). */
export async function anyPurgedRecord(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('purged_records').select('key').limit(1).executeTakeFirst()) !== undefined;
}

/** Forgets the markers of records that came back (the import created their person anew). */
export async function forgetPurgedRecords(tx: Kysely<Database>, dialect: Dialect, keys: readonly string[]): Promise<void> {
  if (keys.length > 0) await tx.deleteFrom('purged_records').where('key', 'in', idSet(dialect, keys)).execute();
}

/**
 * Whether a registrar status brings a purged record back: the person is enrolled (or admitted
 * provisionally) again. Ceased and suspended records, and rows that give no status, stay purged.
 */
export const bringsBack = (status: RegistrarStatus): boolean => status === 'enrolled' || status === 'active' || status === 'provisional';
