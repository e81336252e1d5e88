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

/** Records the status of `accountId` on `target` (one row per pair, last write wins). */
export async function recordProvisioningState(
  db: Kysely<Database>,
  at: Date,
  s: { accountId: string; target: string; status: ProvisioningStatus; op: string; error?: string | null; attempts: number },
): Promise<void> {
  const values = {
    status: s.status,
    last_op: s.op,
    last_error: s.error ?? null,
    attempts: s.attempts,
    updated_at: at.toISOString(),
  };
  await db
    .insertInto('provisioning_state')
    .values({ account_id: s.accountId, target: s.target, ...values })
    .onConflict((oc) => oc.columns(['account_id', 'target']).doUpdateSet(values))
    .execute();
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
