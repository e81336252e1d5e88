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
