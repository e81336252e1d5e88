import type { Selectable } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { OutboxTable } from '../db/schema.js';
import type { ProvisioningTarget } from '../ports/provisioning-target.js';
import { accountRows, desiredFor, type AccountRow, type Desired } from './desired.js';
import { provisioningChannelPrefix, type ProvisioningOp, type ProvisioningPayload } from './enqueue.js';
import { recordProvisioningStates, type StateChange } from './state.js';
import { openTarget, targetSpecs } from './targets.js';

export type ProvisioningRow = Pick<Selectable<OutboxTable>, 'id' | 'channel' | 'purpose' | 'recipient' | 'payload' | 'attempts'>;

/** Error texts kept in the status table are cut short: they are for an administrator's eye. */
export const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 500);

/**
 * Applies one provisioning outbox row (channel `provision:<target>`) to its target, reading the
 * account's CURRENT state and hash from the database: a replayed or out-of-order row converges to
 * the same result. Records the per-target status; throws on failure so the dispatcher retries.
 * `row.attempts` counts this attempt.
 */
export async function deliverProvisioning(ctx: AppContext, row: ProvisioningRow): Promise<void> {
  const failure = (await deliverProvisioningBatch(ctx, [row])).get(row.id);
  if (failure) throw failure;
}

/**
 * Applies many provisioning rows at once (what a dispatcher should prefer): the accounts are read
 * in one query, the rows of one account on one target become one convergent change, different
 * accounts go to the targets side by side, and the statuses are written in one statement.
 * Returns the error of each row that failed (absent: delivered).
 */
export async function deliverProvisioningBatch(ctx: AppContext, rows: ProvisioningRow[], concurrency = 32): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  if (rows.length === 0) return failures;
  const db = ctx.db.kysely;
  const startedAt = ctx.clock.now();
  const accounts = new Map<string, AccountRow>();
  const ids = [...new Set(rows.map((r) => r.recipient))];
  for (let i = 0; i < ids.length; i += 500) {
    for (const a of await accountRows(db).where('accounts.id', 'in', ids.slice(i, i + 500)).execute()) accounts.set(a.id, a);
  }
  const specs = new Map(targetSpecs(ctx).map((s) => [s.id, s]));

  const lanes = new Map<string, ProvisioningRow[]>();
  for (const r of rows) {
    const k = `${r.channel} ${r.recipient}`;
    const lane = lanes.get(k);
    if (lane) lane.push(r);
    else lanes.set(k, [r]);
  }
  const states: StateChange[] = [];
  const runLane = async (lane: ProvisioningRow[]) => {
    const last = lane[lane.length - 1]!;
    const targetId = last.channel.slice(provisioningChannelPrefix.length);
    // Every operation converges to the account's current state, so one change serves the lane;
    // only a lane of password changes alone takes the lighter path.
    const op: ProvisioningOp = lane.every((r) => r.purpose === 'set_password') ? 'set_password' : 'ensure';
    try {
      const spec = specs.get(targetId);
      if (!spec) throw new Error(`provisioning target ${targetId} is not configured`);
      const ref = JSON.parse(last.payload) as ProvisioningPayload;
      await apply(openTarget(ctx, targetId), op, desiredFor(ctx.config, spec.populations, accounts.get(last.recipient)), ref);
      states.push({ accountId: last.recipient, target: targetId, status: 'ok', op: last.purpose, attempts: last.attempts });
    } catch (e) {
      for (const r of lane) failures.set(r.id, e);
      states.push({ accountId: last.recipient, target: targetId, status: 'failed', op: last.purpose, error: errorText(e), attempts: last.attempts });
    }
  };
  const queue = [...lanes.values()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      while (next < queue.length) await runLane(queue[next++]!);
    }),
  );
  // A row enqueued after this delivery started keeps its account "pending".
  await recordProvisioningStates(db, ctx.clock.now(), states, { notAfter: startedAt });
  return failures;
}

/**
 * Records that a provisioning row was given up (dead-lettered) by the dispatcher, so the admin
 * view shows `dead` with the last error.
 */
export async function markProvisioningDead(ctx: AppContext, row: ProvisioningRow, error: unknown): Promise<void> {
  await recordProvisioningStates(ctx.db.kysely, ctx.clock.now(), [
    { accountId: row.recipient, target: row.channel.slice(provisioningChannelPrefix.length), status: 'dead', op: row.purpose, error: errorText(error), attempts: row.attempts },
  ]);
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
