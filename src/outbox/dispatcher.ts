import type { AppContext } from '../app/context.js';
import type { DeliverableMessage, MessageSender } from '../ports/message-sender.js';
import { onOutboxKick } from './wakeup.js';

export interface DispatcherOptions {
  senders: MessageSender[];
  /** Tries before a message is dead-lettered. */
  maxAttempts?: number;
  /** Delay after the first failure; doubles after each further one. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Rows claimed per round. */
  batch?: number;
  /** How often the outbox is polled when nobody kicks (other instances' messages, retries). */
  pollMs?: number;
  /** How long a claimed row belongs to this instance; after that another may take it over. */
  leaseMs?: number;
}

export interface RoundReport {
  sent: number;
  retried: number;
  dead: number;
}

export const SCRUBBED_TEXT = '[removed after delivery]';

/**
 * Delivers outbox rows through the configured senders. Safe with several instances: a row is
 * claimed by one guarded UPDATE (`status` pending, or a lapsed lease, and `next_attempt_at` due)
 * that also moves `next_attempt_at` past the lease, so two instances never deliver one row at
 * the same time. Failures are retried with exponential backoff; after `maxAttempts` the row is
 * `dead` (listed for administrators, who may retry it). Sensitive bodies (codes, links) are
 * scrubbed once delivered. Channels without a sender are left alone: their messages stay in
 * the outbox (shown at /dev/outbox outside production).
 */
export class OutboxDispatcher {
  private readonly senders = new Map<string, MessageSender>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly batch: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private running: Promise<RoundReport> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(
    private readonly ctx: AppContext,
    opts: DispatcherOptions,
  ) {
    for (const s of opts.senders) this.senders.set(s.channel, s);
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.baseDelayMs = opts.baseDelayMs ?? 30_000;
    this.maxDelayMs = opts.maxDelayMs ?? 6 * 3600_000;
    this.batch = opts.batch ?? 20;
    this.pollMs = opts.pollMs ?? 5_000;
    this.leaseMs = opts.leaseMs ?? 120_000;
  }

  get channels(): string[] {
    return [...this.senders.keys()];
  }

  /** The delay before try number `attempt + 1`, after `attempt` failures. */
  backoffMs(attempt: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  }

  /** Delivers every due message once; returns what happened. Concurrent calls share one round. */
  async runOnce(): Promise<RoundReport> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Runs rounds until nothing due is left (tests, and after a kick). */
  async drain(): Promise<RoundReport> {
    const total: RoundReport = { sent: 0, retried: 0, dead: 0 };
    for (;;) {
      const r = await this.runOnce();
      total.sent += r.sent;
      total.retried += r.retried;
      total.dead += r.dead;
      if (r.sent + r.retried + r.dead === 0 && !this.again) return total;
      this.again = false;
    }
  }

  private async round(): Promise<RoundReport> {
    const report: RoundReport = { sent: 0, retried: 0, dead: 0 };
    const channels = this.channels;
    if (channels.length === 0) return report;
    const db = this.ctx.db.kysely;
    const now = this.ctx.clock.now();
    const due = await db
      .selectFrom('outbox')
      .select(['id'])
      .where('status', 'in', ['pending', 'sending'])
      .where('next_attempt_at', '<=', now.toISOString())
      .where('channel', 'in', channels)
      .orderBy('next_attempt_at')
      .limit(this.batch)
      .execute();
    for (const { id } of due) {
      const claimed = await this.claim(id, now);
      if (!claimed) continue;
      const outcome = await this.deliver(claimed);
      report[outcome]++;
    }
    return report;
  }

  private async claim(id: string, now: Date): Promise<(DeliverableMessage & { attempts: number; sensitive: boolean; payload: Record<string, unknown> }) | null> {
    const db = this.ctx.db.kysely;
    const res = await db
      .updateTable('outbox')
      .set((eb) => ({ status: 'sending', attempts: eb('attempts', '+', 1), next_attempt_at: new Date(now.getTime() + this.leaseMs).toISOString() }))
      .where('id', '=', id)
      .where('status', 'in', ['pending', 'sending'])
      .where('next_attempt_at', '<=', now.toISOString())
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return null;
    const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const payload = JSON.parse(row.payload) as { subject: string | null; text: string; html: string | null; sensitive: boolean };
    return {
      id: row.id,
      channel: row.channel as 'email' | 'sms',
      purpose: row.purpose,
      to: row.recipient,
      subject: payload.subject,
      text: payload.text,
      html: payload.html,
      attempts: row.attempts,
      sensitive: payload.sensitive,
      payload,
    };
  }

  private async deliver(m: DeliverableMessage & { attempts: number; sensitive: boolean; payload: Record<string, unknown> }): Promise<keyof RoundReport> {
    const db = this.ctx.db.kysely;
    const sender = this.senders.get(m.channel)!;
    try {
      await sender.send(m);
    } catch (err) {
      const now = this.ctx.clock.now();
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      const dead = m.attempts >= this.maxAttempts;
      await db
        .updateTable('outbox')
        .set({
          status: dead ? 'dead' : 'pending',
          last_error: reason,
          next_attempt_at: new Date(now.getTime() + (dead ? 0 : this.backoffMs(m.attempts))).toISOString(),
        })
        .where('id', '=', m.id)
        .execute();
      this.ctx.log.warn({ outboxId: m.id, channel: m.channel, purpose: m.purpose, attempts: m.attempts, dead, reason }, 'message delivery failed');
      return dead ? 'dead' : 'retried';
    }
    const now = this.ctx.clock.now();
    // A delivered PIN or link has no business staying in the database.
    const payload = m.sensitive ? { ...m.payload, text: SCRUBBED_TEXT, html: null, scrubbed: true } : m.payload;
    await db
      .updateTable('outbox')
      .set({ status: 'sent', sent_at: now.toISOString(), last_error: null, payload: JSON.stringify(payload) })
      .where('id', '=', m.id)
      .execute();
    this.ctx.log.info({ outboxId: m.id, channel: m.channel, purpose: m.purpose }, 'message delivered');
    return 'sent';
  }

  /** Starts polling and listening to `ctx.kickOutbox()`; returns the stop function. */
  start(): () => Promise<void> {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.drain()
        .catch((err) => this.ctx.log.error({ err }, 'outbox round failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    const unsubscribe = onOutboxKick(this.ctx, () => {
      if (this.stopped) return;
      void this.runOnce().catch((err) => this.ctx.log.error({ err }, 'outbox round failed'));
    });
    this.timer = setTimeout(tick, 0);
    return async () => {
      this.stopped = true;
      unsubscribe();
      if (this.timer) clearTimeout(this.timer);
      await this.running?.catch(() => undefined);
      for (const s of this.senders.values()) await s.close?.();
    };
  }
}
