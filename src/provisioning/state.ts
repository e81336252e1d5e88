import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** ok: the target matches; pending: an operation waits; failed: the last try failed (retrying); dead: given up. */
export type ProvisioningStatus = 'ok' | 'pending' | 'failed' | 'dead';

export interface ProvisioningStateView {
  target: string;
  status: ProvisioningStatus;
  lastOp: string;
  lastError: string | null;
  attempts: number;
  updatedAt: string;
}

export interface StateChange {
  accountId: string;
  target: string;
  status: ProvisioningStatus;
  op: string;
  error?: string | null;
  attempts: number;
}

/**
 * Records the status of accounts on targets (one row per pair). With `notAfter`, a row changed
 * after that instant (an operation enqueued meanwhile) is left as it is.
 */
export async function recordProvisioningStates(db: Kysely<Database>, at: Date, changes: StateChange[], opts: { notAfter?: Date } = {}): Promise<void> {
  for (let i = 0; i < changes.length; i += 500) {
    const values = changes.slice(i, i + 500).map((s) => ({
      account_id: s.accountId,
      target: s.target,
      status: s.status,
      last_op: s.op,
      last_error: s.error ?? null,
      attempts: s.attempts,
      updated_at: at.toISOString(),
    }));
    await db
      .insertInto('provisioning_state')
      .values(values)
      .onConflict((oc) => {
        const set = oc.columns(['account_id', 'target']).doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          last_op: eb.ref('excluded.last_op'),
          last_error: eb.ref('excluded.last_error'),
          attempts: eb.ref('excluded.attempts'),
          updated_at: eb.ref('excluded.updated_at'),
        }));
        return opts.notAfter ? set.where('provisioning_state.updated_at', '<=', opts.notAfter.toISOString()) : set;
      })
      .execute();
  }
}

/** Records the status of `accountId` on `target`. */
export async function recordProvisioningState(db: Kysely<Database>, at: Date, s: StateChange): Promise<void> {
  await recordProvisioningStates(db, at, [s]);
}

/** Each target's provisioning status for one account (admin view). */
export async function provisioningStates(db: Kysely<Database>, accountId: string): Promise<ProvisioningStateView[]> {
  const rows = await db.selectFrom('provisioning_state').selectAll().where('account_id', '=', accountId).orderBy('target').execute();
  return rows.map((r) => ({
    target: r.target,
    status: r.status as ProvisioningStatus,
    lastOp: r.last_op,
    lastError: r.last_error,
    attempts: r.attempts,
    updatedAt: r.updated_at,
  }));
}
