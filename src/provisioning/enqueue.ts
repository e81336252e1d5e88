import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import type { Database } from '../db/schema.js';
import { recordProvisioningState } from './state.js';
import { targetSpecs, targetsFor } from './targets.js';

/** What a provisioning row asks of its target. Each is applied from the account's CURRENT state. */
export const provisioningOps = ['ensure', 'set_password', 'suspend', 'delete'] as const;
export type ProvisioningOp = (typeof provisioningOps)[number];

/** Outbox channel of a target's provisioning operations. */
export const provisioningChannelPrefix = 'provision:';
export const provisioningChannel = (targetId: string) => `${provisioningChannelPrefix}${targetId}`;

/** The row's payload: how to find the account on the target should the account row be gone. No secrets. */
export interface ProvisioningPayload {
  username: string;
  email: string | null;
}

/**
 * Adds one provisioning operation to the outbox inside `tx` (channel `provision:<target>`, purpose
 * the operation, recipient the account id) and marks the account pending on that target.
 * The payload holds no secret: the delivery reads the account's current state and hash.
 */
export async function enqueueProvisioning(
  tx: Kysely<Database>,
  at: Date,
  o: { target: string; op: ProvisioningOp; accountId: string; ref: ProvisioningPayload },
): Promise<string> {
  const id = randomId();
  await tx
    .insertInto('outbox')
    .values({
      id,
      channel: provisioningChannel(o.target),
      purpose: o.op,
      recipient: o.accountId,
      payload: JSON.stringify({ username: o.ref.username, email: o.ref.email } satisfies ProvisioningPayload),
      status: 'pending',
      attempts: 0,
      next_attempt_at: at.toISOString(),
      last_error: null,
      created_at: at.toISOString(),
      sent_at: null,
    })
    .execute();
  await recordProvisioningState(tx, at, { accountId: o.accountId, target: o.target, status: 'pending', op: o.op, attempts: 0 });
  return id;
}

/**
 * Enqueues `ops` for every target serving the account's population, inside `tx`. Reads the
 * account and person through `tx`, so it sees the changes of the same transaction.
 * No target configured: nothing is written.
 */
export async function enqueueAccountProvisioning(
  ctx: Pick<AppContext, 'config' | 'env'>,
  tx: Kysely<Database>,
  at: Date,
  accountId: string,
  ops: ProvisioningOp[],
): Promise<number> {
  // No target configured (the common case): nothing to read or write.
  if (ops.length === 0 || targetSpecs(ctx).length === 0) return 0;
  const row = await tx
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .select(['accounts.username', 'accounts.email', 'persons.population'])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!row) return 0;
  let n = 0;
  for (const t of targetsFor(ctx, row.population)) {
    for (const op of ops) {
      await enqueueProvisioning(tx, at, { target: t.id, op, accountId, ref: { username: row.username, email: row.email } });
      n++;
    }
  }
  return n;
}

/**
 * The operations a status change asks of the targets (PRODUCT.md §2, §9). Becoming active from
 * any status ensures the entry (with the current password), so every activation flow provisions.
 */
export function opsForTransition(to: string): ProvisioningOp[] {
  if (to === 'active') return ['ensure'];
  if (to === 'suspended' || to === 'locked' || to === 'expired') return ['suspend'];
  if (to === 'purged') return ['delete'];
  return [];
}
