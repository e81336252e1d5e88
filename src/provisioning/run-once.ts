import type { AppContext } from '../app/context.js';
import { OutboxDispatcher, type BatchHandler } from '../outbox/dispatcher.js';
import { exponentialBackoff } from '../outbox/rows.js';
import { deliverProvisioningBatch, markProvisioningDead } from './deliver.js';
import { provisioningChannelPrefix } from './enqueue.js';
import { closeTargets } from './targets.js';

/**
 * Provisioning rows (channels `provision:<target>`) go through the outbox dispatcher like every
 * message, with this batch handler: a claimed batch is applied to the targets at once
 * (deliverProvisioningBatch), failures retried after 10 s doubling up to an hour (±20 % jitter),
 * dead after 10 tries with the per-target status saying so.
 */
export function provisioningHandler(ctx: AppContext, opts: { batch?: number; concurrency?: number; maxAttempts?: number } = {}): BatchHandler {
  return {
    prefix: provisioningChannelPrefix,
    batch: opts.batch ?? 200,
    policy: { maxAttempts: opts.maxAttempts ?? 10, backoffMs: exponentialBackoff(10_000, 3_600_000, 0.2) },
    deliver: (rows) => deliverProvisioningBatch(ctx, rows, opts.concurrency ?? 16),
    onDead: (row, error) => markProvisioningDead(ctx, row, error),
    close: () => closeTargets(ctx),
  };
}

export interface RunReport {
  delivered: number;
  retried: number;
  dead: number;
}

/**
 * Delivers every due provisioning row now, through the dispatcher, and returns what happened
 * (jobs, tests, benchmarks). `leaseMs`: how long a claimed row stays with this processor.
 */
export async function runProvisioningOnce(
  ctx: AppContext,
  opts: { batch?: number; concurrency?: number; leaseMs?: number; maxAttempts?: number } = {},
): Promise<RunReport> {
  const dispatcher = new OutboxDispatcher(ctx, { senders: [], batchHandlers: [provisioningHandler(ctx, opts)], ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}) });
  const r = await dispatcher.drain();
  return { delivered: r.sent, retried: r.retried, dead: r.dead };
}
