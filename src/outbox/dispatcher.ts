import type { AppContext } from '../app/context.js';
import type { DeliverableMessage, MessageSender } from '../ports/message-sender.js';
import { onOutboxKick } from './wakeup.js';
import { claimDueRows, exponentialBackoff, renewClaim, settleRows, type OutboxRow, type RetryPolicy, type SettleReport } from './rows.js';

/**
 * A handler of many rows at once, for channels sharing a prefix (`provision:` — directory and mail
 * platform operations). Returns the error of each row that failed; absent rows were delivered.
 */
export interface BatchHandler {
  prefix: string;
  deliver(rows: OutboxRow[]): Promise<Map<string, unknown>>;
  policy: RetryPolicy;
  /** Rows claimed per round. */
  batch?: number;
  onDead?(row: OutboxRow, error: unknown): Promise<void>;
  close?(): Promise<void>;
}

export interface DispatcherOptions {
  senders: MessageSender[];
  batchHandlers?: BatchHandler[];
  /** Tries before a message is dead-lettered. */
  maxAttempts?: number;
  /** Delay after the first failure; doubles after each further one. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Messages claimed per round. */
  batch?: number;
  /** How often the outbox is polled when nobody kicks (other instances' messages, retries). */
  pollMs?: number;
  /** How long a claimed row belongs to this instance; after that another may take it over. */
  leaseMs?: number;
}

export type RoundReport = SettleReport;

export const SCRUBBED_TEXT = '[removed after delivery]';

interface MessagePayload {
  subject: string | null;
  text: string;
  html: string | null;
  sensitive: boolean;
  lang?: string;
}

/**
 * Delivers outbox rows: messages through the configured senders (one per channel), and batches
 * of other rows (provisioning) through batch handlers — one claim, retry and dead-letter protocol
 * for all (outbox/rows.ts). Safe with several instances: rows are claimed by a guarded UPDATE with
 * a lease, so two instances never deliver one row at the same time. Failures are retried with
 * exponential backoff; after the last try a row is `dead` (listed for administrators, who may
 * retry it). Sensitive message bodies (codes, links) are scrubbed once delivered. Channels without
 * a sender are left alone: their messages stay in the outbox (shown at /dev/outbox outside
 * production).
 */
export class OutboxDispatcher {
  private readonly senders = new Map<string, MessageSender>();
  private readonly handlers: BatchHandler[];
  private readonly policy: RetryPolicy;
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
    this.handlers = opts.batchHandlers ?? [];
    this.baseDelayMs = opts.baseDelayMs ?? 30_000;
    this.maxDelayMs = opts.maxDelayMs ?? 6 * 3600_000;
    this.policy = { maxAttempts: opts.maxAttempts ?? 8, backoffMs: (a) => this.backoffMs(a) };
    this.batch = opts.batch ?? 20;
    this.pollMs = opts.pollMs ?? 5_000;
    this.leaseMs = opts.leaseMs ?? 120_000;
  }

  get channels(): string[] {
    return [...this.senders.keys()];
  }

  /** The delay before try number `attempt + 1`, after `attempt` failures. */
  backoffMs(attempt: number): number {
    return exponentialBackoff(this.baseDelayMs, this.maxDelayMs)(attempt);
  }

  /** Delivers every due row once; returns what happened. Concurrent calls share one round. */
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
    const add = (r: SettleReport) => {
      report.sent += r.sent;
      report.retried += r.retried;
      report.dead += r.dead;
    };
    const messages = await claimDueRows(this.ctx, { channels: this.channels }, this.batch, this.leaseMs);
    if (messages.length > 0) add(await this.deliverMessages(messages));
    for (const h of this.handlers) {
      const rows = await claimDueRows(this.ctx, { prefix: h.prefix }, h.batch ?? 200, this.leaseMs);
      if (rows.length === 0) continue;
      add(await settleRows(this.ctx, rows, await h.deliver(rows), h.policy, h.onDead ? { onDead: (r, e) => h.onDead!(r, e) } : {}));
    }
    return report;
  }

  /**
   * One message at a time: its claim is renewed just before it is sent (a slow message earlier in
   * the batch must not let the lease of the later ones lapse, nor another instance send them too),
   * and its outcome is recorded as soon as it is known. A message whose claim was lost meanwhile
   * is left to the instance that took it over.
   */
  private async deliverMessages(rows: OutboxRow[]): Promise<SettleReport> {
    const report: SettleReport = { sent: 0, retried: 0, dead: 0 };
    for (const row of rows) {
      if (!(await renewClaim(this.ctx, row, this.leaseMs))) continue;
      const p = JSON.parse(row.payload) as MessagePayload;
      const m: DeliverableMessage = { id: row.id, channel: row.channel as 'email' | 'sms', purpose: row.purpose, to: row.recipient, subject: p.subject, text: p.text, html: p.html, lang: p.lang };
      const failures = new Map<string, unknown>();
      try {
        await this.senders.get(row.channel)!.send(m);
        this.ctx.log.info({ outboxId: row.id, channel: row.channel, purpose: row.purpose }, 'message delivered');
      } catch (err) {
        failures.set(row.id, err);
      }
      const r = await settleRows(this.ctx, [row], failures, this.policy, {
        // A delivered PIN or link has no business staying in the database.
        sentPayload: (sent) => {
          const q = JSON.parse(sent.payload) as MessagePayload;
          return q.sensitive ? JSON.stringify({ ...q, text: SCRUBBED_TEXT, html: null, scrubbed: true }) : undefined;
        },
      });
      report.sent += r.sent;
      report.retried += r.retried;
      report.dead += r.dead;
    }
    return report;
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
      for (const h of this.handlers) await h.close?.();
    };
  }
}
