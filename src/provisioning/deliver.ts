import type { Selectable } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { OutboxTable } from '../db/schema.js';
import type { ProvisioningTarget } from '../ports/provisioning-target.js';
import { accountRows, desiredFor, type Desired } from './desired.js';
import { provisioningChannelPrefix, type ProvisioningOp, type ProvisioningPayload } from './enqueue.js';
import { recordProvisioningState } from './state.js';
import { openTarget, targetSpecs } from './targets.js';

export type ProvisioningRow = Pick<Selectable<OutboxTable>, 'id' | 'channel' | 'purpose' | 'recipient' | 'payload' | 'attempts'>;

/** Error texts kept in the status table are cut short: they are for an administrator's eye. */
const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 500);

/**
 * Applies one provisioning outbox row (channel `provision:<target>`) to its target, reading the
 * account's CURRENT state and hash from the database: a replayed or out-of-order row converges to
 * the same result. Records the per-target status; throws on failure so the dispatcher retries.
 * `row.attempts` counts this attempt.
 */
export async function deliverProvisioning(ctx: AppContext, row: ProvisioningRow): Promise<void> {
  const targetId = row.channel.slice(provisioningChannelPrefix.length);
  const op = row.purpose as ProvisioningOp;
  const db = ctx.db.kysely;
  try {
    const spec = targetSpecs(ctx).find((t) => t.id === targetId);
    if (!spec) throw new Error(`provisioning target ${targetId} is not configured`);
    const current = await accountRows(db).where('accounts.id', '=', row.recipient).executeTakeFirst();
    const ref = JSON.parse(row.payload) as ProvisioningPayload;
    await apply(openTarget(ctx, targetId), op, desiredFor(ctx.config, spec.populations, current), ref);
  } catch (e) {
    await recordProvisioningState(db, ctx.clock.now(), { accountId: row.recipient, target: targetId, status: 'failed', op, error: errorText(e), attempts: row.attempts });
    throw e;
  }
  // Every delivery brings the target to the account's current state, so success means "ok" unless
  // another operation is already queued (rows being delivered at this moment record their own).
  const waiting = await db
    .selectFrom('outbox')
    .select('id')
    .where('recipient', '=', row.recipient)
    .where('channel', '=', row.channel)
    .where('status', '=', 'pending')
    .where('id', '!=', row.id)
    .executeTakeFirst();
  await recordProvisioningState(db, ctx.clock.now(), {
    accountId: row.recipient,
    target: targetId,
    status: waiting ? 'pending' : 'ok',
    op,
    attempts: row.attempts,
  });
}

/**
 * Records that a provisioning row was given up (dead-lettered) by the dispatcher, so the admin
 * view shows `dead` with the last error.
 */
export async function markProvisioningDead(ctx: AppContext, row: ProvisioningRow, error: unknown): Promise<void> {
  await recordProvisioningState(ctx.db.kysely, ctx.clock.now(), {
    accountId: row.recipient,
    target: row.channel.slice(provisioningChannelPrefix.length),
    status: 'dead',
    op: row.purpose,
    error: errorText(error),
    attempts: row.attempts,
  });
}

async function apply(target: ProvisioningTarget, op: ProvisioningOp, desired: Desired, ref: ProvisioningPayload): Promise<void> {
  switch (desired.kind) {
    case 'absent':
      return target.delete(ref);
    case 'hold':
      // Not (yet) activated: nothing is created; an entry from an earlier life stays locked.
      await target.suspend(desired.account);
      return;
    case 'present':
      // A password change only rewrites the password, unless the entry has gone missing.
      if (op === 'set_password' && (await target.setPassword(desired.account, desired.account.passwordHash))) return;
      return target.ensureAccount(desired.account);
    case 'locked':
      return target.ensureAccount(desired.account);
  }
}
