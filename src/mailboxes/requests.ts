import type { Kysely, Selectable } from 'kysely';
import type { Database, MailboxRequestTable } from '../db/schema.js';
import type { Tx } from '../flows/kernel/types.js';

export type MailboxRequestRow = Selectable<MailboxRequestTable>;

/** The pending request of an account, if any. */
export async function pendingRequestOf(db: Kysely<Database>, accountId: string): Promise<MailboxRequestRow | null> {
  const r = await db.selectFrom('mailbox_requests').selectAll().where('account_id', '=', accountId).where('status', '=', 'pending').executeTakeFirst();
  return r ?? null;
}

/**
 * Finishes the mailbox-request flow waiting on a request, so the requester's page and the API
 * show the outcome. The flow is claimed by its version like any step; a flow already gone is left alone.
 */
export async function completeRequestFlow(tx: Tx, flowId: string | null, result: { address: string | null; status: string }, at: Date): Promise<void> {
  if (!flowId) return;
  const flow = await tx.selectFrom('flows').select(['data', 'version', 'state']).where('id', '=', flowId).executeTakeFirst();
  if (!flow || flow.state === 'completed') return;
  const stored = JSON.parse(flow.data) as { d: Record<string, unknown> };
  await tx
    .updateTable('flows')
    .set({ state: 'completed', version: flow.version + 1, data: JSON.stringify({ d: stored.d, r: result }), updated_at: at.toISOString() })
    .where('id', '=', flowId)
    .where('version', '=', flow.version)
    .execute();
}
