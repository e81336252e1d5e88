import { sql } from 'kysely';
import type { AppContext } from '../app/context.js';
import { deliverProvisioningBatch, errorText, markProvisioningDead, type ProvisioningRow } from './deliver.js';
import { provisioningChannelPrefix } from './enqueue.js';

/*
 * A minimal processor of provisioning rows, until the generic outbox dispatcher takes them: that
 * dispatcher should call `deliverProvisioningBatch` (or `deliverProvisioning`, one row) for `provision:*` channels and `markProvisioningDead`
 * when it dead-letters one, and this file can then go. Same row protocol as any outbox row:
 * pending → sending (claimed, with a lease) → sent | pending (retry later) | dead.
 */

export interface RunOptions {
  /** Rows claimed per batch. */
  batch?: number;
  /** Rows delivered at the same time (targets pipeline requests on one connection). */
  concurrency?: number;
  /** A claimed row whose processor died is claimed again after this long. */
  leaseMs?: number;
  /** Attempts before a row is dead-lettered. */
  maxAttempts?: number;
}

export interface RunReport {
  delivered: number;
  retried: number;
  dead: number;
}

/** Retry delay after `attempts` failures: 10 s doubling up to an hour, with ±20 % jitter. */
export function backoffMs(attempts: number): number {
  const base = Math.min(10_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Claims the provisioning rows that are due (pending, or claimed by a processor whose lease ran
 * out) with a guarded UPDATE — two processors never hold one row — and delivers them.
 */
export async function claimProvisioningRows(ctx: AppContext, limit: number, leaseMs: number): Promise<ProvisioningRow[]> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  const dueAt = now.toISOString();
  // Oldest first; an account's rows side by side, so they usually share a batch (one change).
  const ids = await db
    .selectFrom('outbox')
    .select('id')
    .where('channel', 'like', `${provisioningChannelPrefix}%`)
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', dueAt)
    .orderBy('created_at')
    .orderBy('recipient')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (ids.length === 0) return [];
  // The same conditions again: a row another processor claimed meanwhile no longer matches.
  return db
    .updateTable('outbox')
    .set({ status: 'sending', attempts: sql<number>`attempts + 1`, next_attempt_at: new Date(now.getTime() + leaseMs).toISOString() })
    .where(
      'id',
      'in',
      ids.map((r) => r.id),
    )
    .where('channel', 'like', `${provisioningChannelPrefix}%`)
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', dueAt)
    .returning(['id', 'channel', 'purpose', 'recipient', 'payload', 'attempts'])
    .execute();
}

/** Claims and delivers due provisioning rows until none is left (or `maxBatches` ran). */
export async function runProvisioningOnce(ctx: AppContext, opts: RunOptions & { maxBatches?: number } = {}): Promise<RunReport> {
  const batch = opts.batch ?? 200;
  const concurrency = opts.concurrency ?? 16;
  const leaseMs = opts.leaseMs ?? 60_000;
  const maxAttempts = opts.maxAttempts ?? 10;
  const report: RunReport = { delivered: 0, retried: 0, dead: 0 };
  const db = ctx.db.kysely;
  const settle = async (rows: ProvisioningRow[]) => {
    const failures = await deliverProvisioningBatch(ctx, rows, concurrency);
    const sent = rows.filter((r) => !failures.has(r.id)).map((r) => r.id);
    for (let i = 0; i < sent.length; i += 500) {
      await db
        .updateTable('outbox')
        .set({ status: 'sent', sent_at: ctx.clock.now().toISOString(), last_error: null })
        .where('id', 'in', sent.slice(i, i + 500))
        .where('status', '=', 'sending')
        .execute();
    }
    report.delivered += sent.length;
    for (const row of rows) {
      if (!failures.has(row.id)) continue;
      const e = failures.get(row.id);
      const dead = row.attempts >= maxAttempts;
      const message = errorText(e);
      await db
        .updateTable('outbox')
        .set({ status: dead ? 'dead' : 'pending', last_error: message, next_attempt_at: new Date(ctx.clock.now().getTime() + backoffMs(row.attempts)).toISOString() })
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .execute();
      if (dead) {
        await markProvisioningDead(ctx, row, e);
        report.dead++;
      } else report.retried++;
      ctx.log.warn({ outboxId: row.id, channel: row.channel, op: row.purpose, attempts: row.attempts, dead, err: message }, 'provisioning.failed');
    }
  };
  // Two batches overlap: the next one is claimed while the targets work on the current one.
  let inFlight: Promise<void> | null = null;
  try {
    for (let b = 0; b < (opts.maxBatches ?? Infinity); b++) {
      const rows = await claimProvisioningRows(ctx, batch, leaseMs);
      if (rows.length === 0) break;
      const next = settle(rows);
      // Its failure is rethrown when awaited below; until then it must not count as unhandled.
      next.catch(() => {});
      if (inFlight) await inFlight;
      inFlight = next;
    }
  } finally {
    if (inFlight) await inFlight;
  }
  return report;
}
