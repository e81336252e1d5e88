import { sql, type Selectable } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { OutboxTable } from '../db/schema.js';

/**
 * The one protocol of outbox rows, for messages and provisioning alike:
 * pending → sending (claimed, with a lease) → sent | pending (retried later) | dead.
 */
export type OutboxRow = Pick<Selectable<OutboxTable>, 'id' | 'channel' | 'purpose' | 'recipient' | 'payload' | 'attempts'>;

/** Which rows a claim takes: named channels, or every channel with a prefix (`provision:`). */
export type ChannelSelector = { channels: string[] } | { prefix: string };

export interface RetryPolicy {
  /** Tries before a row is dead-lettered. */
  maxAttempts: number;
  /** Delay before the next try after `attempts` failures. */
  backoffMs(attempts: number): number;
}

/** Exponential backoff from `baseMs`, doubling up to `maxMs`, with ±`jitter` (0–1). */
export const exponentialBackoff =
  (baseMs: number, maxMs: number, jitter = 0) =>
  (attempts: number): number => {
    const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(jitter ? d * (1 - jitter + Math.random() * 2 * jitter) : d);
  };

/**
 * Claims due rows: pending, or `sending` whose lease lapsed (its processor died). The guarded
 * UPDATE repeats every condition, so two processors never hold one row; the lease moves
 * `next_attempt_at` forward until the claim is settled.
 */
export async function claimDueRows(ctx: AppContext, which: ChannelSelector, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  const dueAt = now.toISOString();
  const scope = <Q extends { where: (...a: any[]) => Q }>(q: Q): Q =>
    'channels' in which ? q.where('channel', 'in', which.channels) : q.where('channel', 'like', `${which.prefix}%`);
  if ('channels' in which && which.channels.length === 0) return [];
  // Oldest first; an account's rows side by side, so they usually share a batch.
  const ids = await scope(db.selectFrom('outbox').select('id'))
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', dueAt)
    .orderBy('next_attempt_at')
    .orderBy('recipient')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (ids.length === 0) return [];
  return scope(
    db
      .updateTable('outbox')
      .set({ status: 'sending', attempts: sql<number>`attempts + 1`, next_attempt_at: new Date(now.getTime() + leaseMs).toISOString() })
      .where(
        'id',
        'in',
        ids.map((r) => r.id),
      ),
  )
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', dueAt)
    .returning(['id', 'channel', 'purpose', 'recipient', 'payload', 'attempts'])
    .execute();
}

/**
 * Extends this processor's claim on `row` before it is delivered; false when the claim was lost
 * (its lease lapsed and another processor claimed it: that one delivers it). A claim is known by
 * its try number, which every claim increments.
 */
export async function renewClaim(ctx: AppContext, row: OutboxRow, leaseMs: number): Promise<boolean> {
  const res = await ctx.db.kysely
    .updateTable('outbox')
    .set({ next_attempt_at: new Date(ctx.clock.now().getTime() + leaseMs).toISOString() })
    .where('id', '=', row.id)
    .where('status', '=', 'sending')
    .where('attempts', '=', row.attempts)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export interface SettleReport {
  sent: number;
  retried: number;
  dead: number;
}

/**
 * Records the outcome of delivering claimed rows: the ones absent from `failures` are sent
 * (their payload optionally replaced, e.g. a delivered PIN scrubbed), the others go back to
 * pending after the policy's backoff, or to dead once their tries are used up.
 */
export async function settleRows(
  ctx: AppContext,
  rows: OutboxRow[],
  failures: Map<string, unknown>,
  policy: RetryPolicy,
  hooks: { sentPayload?: (row: OutboxRow) => string | undefined; onDead?: (row: OutboxRow, error: unknown) => Promise<void> } = {},
): Promise<SettleReport> {
  const db = ctx.db.kysely;
  const report: SettleReport = { sent: 0, retried: 0, dead: 0 };
  const now = ctx.clock.now();
  const sent = rows.filter((r) => !failures.has(r.id));
  // Only this processor's claim is settled (its try number): a row another processor took over
  // after this one's lease lapsed is that one's to settle.
  const plain = sent.filter((r) => hooks.sentPayload?.(r) === undefined);
  for (const attempts of new Set(plain.map((r) => r.attempts))) {
    const ids = plain.filter((r) => r.attempts === attempts).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      await db
        .updateTable('outbox')
        .set({ status: 'sent', sent_at: now.toISOString(), last_error: null })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('status', '=', 'sending')
        .where('attempts', '=', attempts)
        .execute();
    }
  }
  for (const r of sent) {
    const payload = hooks.sentPayload?.(r);
    if (payload === undefined) continue;
    await db.updateTable('outbox').set({ status: 'sent', sent_at: now.toISOString(), last_error: null, payload }).where('id', '=', r.id).where('status', '=', 'sending').where('attempts', '=', r.attempts).execute();
  }
  report.sent = sent.length;
  for (const row of rows) {
    if (!failures.has(row.id)) continue;
    const error = failures.get(row.id);
    const dead = row.attempts >= policy.maxAttempts;
    const reason = (error instanceof Error ? `${error.message}` : String(error)).slice(0, 500);
    await db
      .updateTable('outbox')
      .set({ status: dead ? 'dead' : 'pending', last_error: reason, next_attempt_at: new Date(now.getTime() + (dead ? 0 : policy.backoffMs(row.attempts))).toISOString() })
      .where('id', '=', row.id)
      .where('status', '=', 'sending')
      .where('attempts', '=', row.attempts)
      .execute();
    if (dead) {
      await hooks.onDead?.(row, error);
      report.dead++;
    } else report.retried++;
    ctx.log.warn({ outboxId: row.id, channel: row.channel, purpose: row.purpose, attempts: row.attempts, dead, reason }, 'outbox delivery failed');
  }
  return report;
}
