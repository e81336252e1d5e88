import { sql, type Kysely } from 'kysely';
import type { Actor } from '../audit/audit.js';
import type { Dialect } from '../db/connect.js';
import { idSet } from '../db/id-set.js';
import type { Database } from '../db/schema.js';
import { accountStatuses, canTransition, type AccountStatus } from '../domain/account-status.js';
import type { AppContext } from '../app/context.js';
import { enqueueAccountProvisioning } from '../provisioning/enqueue.js';
import { targetSpecs } from '../provisioning/targets.js';
import { markRecordsPurged } from './purged-records.js';

export interface PurgedAccount {
  id: string;
  username: string;
}

/** The lifecycle steps from `from` to purged: direct when allowed, else through `expired`. */
export function purgePath(from: AccountStatus): AccountStatus[] | null {
  if (from === 'purged') return null;
  if (canTransition(from, 'purged')) return ['purged'];
  if (canTransition(from, 'expired') && canTransition('expired', 'purged')) return ['expired', 'purged'];
  return null;
}

/** The statuses the lifecycle can purge (directly or through `expired`), with the steps each takes. */
const purgeable = accountStatuses.flatMap((s) => {
  const path = purgePath(s);
  return path ? [{ status: s, path }] : [];
});
export const purgeableStatuses: AccountStatus[] = purgeable.map((p) => p.status);

/**
 * Purges a batch of accounts inside `tx`, set-based so that a job can purge a million accounts
 * with a handful of statements per batch: each account moves to `purged` through the lifecycle
 * (one audit entry per account, as transitionAccount writes it, naming the intermediate steps),
 * its personal data goes (person row, consent records, sessions, flows, codes, pending registration), and its
 * username and address become free again. The audit log keeps its rows. Accounts already purged,
 * or that the lifecycle cannot purge, are skipped, so running the same batch twice changes nothing
 * the second time.
 */
export async function purgeAccounts(tx: Kysely<Database>, dialect: Dialect, ids: string[], how: PurgeHow): Promise<PurgedAccount[]> {
  if (ids.length === 0) return [];
  let q = tx.selectFrom('accounts').select(['id', 'person_id', 'username']).where('id', 'in', idSet(dialect, ids)).where('status', 'in', purgeableStatuses);
  // PostgreSQL: hold the rows so a concurrent change waits for this purge instead of racing it.
  if (dialect === 'postgres') q = q.forUpdate();
  return purgeSelected(tx, dialect, await q.execute(), how);
}

export interface PurgeHow {
  actor: Actor;
  reason: string;
  at: Date;
  provisioning: Pick<AppContext, 'config' | 'env'>;
  /**
   * The registrar still lists these people after their record ended: leave a marker of each
   * purged record (purged-records.ts), so that its next file does not bring them back. Keyed with
   * these secrets. Registrations (no registrar record) need none.
   */
  markRecords?: Pick<AppContext, 'secrets'>;
}

/**
 * purgeAccounts for accounts the caller has just read inside `tx` (with FOR UPDATE on PostgreSQL),
 * each in one of `purgeableStatuses`: a job that selects its batch inside the purge's transaction
 * saves reading it twice.
 */
export async function purgeSelected(
  tx: Kysely<Database>,
  dialect: Dialect,
  rows: ReadonlyArray<{ id: string; person_id: string | null; username: string }>,
  how: PurgeHow,
): Promise<PurgedAccount[]> {
  if (rows.length === 0) return [];
  const at = how.at.toISOString();
  const pids = rows.map((r) => r.id);
  const purged = idSet(dialect, pids);
  // One entry per account; `via` names the lifecycle steps taken (e.g. locked → expired → purged).
  const details = sql<string>`case ${sql.ref('status')} ${sql.join(
    purgeable.map(({ status, path }) => sql`when ${status} then ${JSON.stringify({ from: status, to: 'purged', ...(path.length > 1 ? { via: path.slice(0, -1) } : {}), reason: how.reason })}`),
    sql` `,
  )} end`;
  await tx
    .insertInto('audit_log')
    .columns(['at', 'actor', 'action', 'account_id', 'person_id', 'ip', 'correlation_id', 'details'])
    .expression((eb) =>
      eb
        .selectFrom('accounts')
        .select([sql.val(at).as('at'), sql.val(how.actor).as('actor'), sql.val('account.status_changed').as('action'), 'id', 'person_id', sql.lit(null).as('ip'), sql.lit(null).as('correlation_id'), details.as('details')])
        .where('id', 'in', purged)
        .orderBy('id'),
    )
    .execute();
  // As transitionAccount does for one account: the targets delete the entry (enqueued while the
  // username is still known) and every single sign-on grant and token of the account ends.
  if (targetSpecs(how.provisioning).length > 0) for (const id of pids) await enqueueAccountProvisioning(how.provisioning, tx, how.at, id, ['delete']);
  await tx.deleteFrom('oidc_payloads').where('account_id', 'in', purged).execute();
  await tx.deleteFrom('oidc_consents').where('account_id', 'in', purged).execute();
  await tx.deleteFrom('sessions').where('account_id', 'in', purged).execute();
  await tx.deleteFrom('one_time_codes').where('subject', 'in', purged).execute();
  // Codes issued to a flow of the account (an address change's link) hold the address they went to.
  await tx
    .deleteFrom('one_time_codes')
    .where('subject', 'in', (eb) => eb.selectFrom('flows').select('flows.id').where('flows.account_id', 'in', purged))
    .execute();
  // A registration's flow holds the name and address typed in: only "void" stays of it, so a late
  // visit still reads that the registration expired.
  await tx
    .updateTable('flows')
    .set({ data: JSON.stringify({ d: { voided: true } }), updated_at: at })
    .where('id', 'in', (eb) => eb.selectFrom('registrations').select('flow_id').where('account_id', 'in', purged).where('flow_id', 'is not', null))
    .where('state', '!=', 'completed')
    .execute();
  await tx.deleteFrom('flows').where('account_id', 'in', purged).execute();
  await tx.deleteFrom('registrations').where('account_id', 'in', purged).execute();
  await tx
    .updateTable('accounts')
    .set({
      status: 'purged',
      username: sql<string>`'purged-' || id`,
      username_lower: sql<string>`'purged-' || lower(id)`,
      email: null,
      email_lower: null,
      password_hash: null,
      person_id: null,
      roles: '[]',
      updated_at: at,
      version: sql<number>`version + 1`,
    })
    .where('id', 'in', purged)
    .execute();
  // After the accounts let go of them: deleting a person still referenced would make the
  // database null the reference row by row.
  const personIds = rows.map((r) => r.person_id).filter((p): p is string => p !== null);
  if (personIds.length) {
    const persons = idSet(dialect, personIds);
    if (how.markRecords) {
      const records = await tx.selectFrom('persons').select(['population', 'external_id']).where('id', 'in', persons).execute();
      await markRecordsPurged(tx, how.markRecords, records, how.at, how.reason);
    }
    // The choices the person made go with them: a record of consent is proof about someone only
    // while there is someone it is about.
    await tx.deleteFrom('consent_records').where('person_id', 'in', persons).execute();
    await tx.deleteFrom('persons').where('id', 'in', persons).execute();
  }
  return rows.map((r) => ({ id: r.id, username: r.username }));
}
