import type { AppContext } from '../app/context.js';

/** What a lifecycle job did (or, in a dry run, would do). Never holds a secret. */
export interface JobReport {
  job: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  /** Accounts per action: purged, warned, suspended, … */
  counts: Record<string, number>;
  /** The accounts touched, up to REPORT_LIMIT of them. */
  accounts: Array<{ username: string; action: string }>;
  truncated: boolean;
}

export const REPORT_LIMIT = 1000;

export interface JobRun {
  dryRun: boolean;
  /** Called between batches: renews the lease; throws when the lease was lost or the run must stop. */
  checkpoint(): Promise<void>;
  record(action: string, username: string): void;
  progress?: (done: number) => void;
}

/** A lifecycle job: idempotent (a second run finds nothing to do) and resumable (each batch commits). */
export interface JobDefinition {
  name: string;
  description: string;
  run(ctx: AppContext, run: JobRun): Promise<void>;
}

/** Yields to the event loop, so that no batch sequence holds it for long. */
export const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Sizes a job's write batches by time: each batch holds SQLite's write lock, so a server write
 * that arrives meanwhile waits for it. The size follows the cost per account measured on the
 * batches so far, aiming at `targetMs` per batch, never above the configured `lifecycle.batchSize`.
 */
export class BatchSizer {
  private perAccountMs = 0;
  constructor(
    private readonly max: number,
    private readonly targetMs = 15,
  ) {}

  /** Accounts for the next batch. */
  get size(): number {
    if (this.perAccountMs === 0) return Math.min(this.max, 100);
    return Math.max(10, Math.min(this.max, Math.floor(this.targetMs / this.perAccountMs)));
  }

  /** A batch of `accounts` took `ms`. */
  record(accounts: number, ms: number): void {
    if (accounts === 0) return;
    const m = ms / accounts;
    // Smoothed, so that one slow batch (another process took the CPU) does not halve the next.
    this.perAccountMs = this.perAccountMs === 0 ? m : 0.7 * this.perAccountMs + 0.3 * m;
  }
}
