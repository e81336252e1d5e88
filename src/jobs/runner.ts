import { hostname } from 'node:os';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { randomId } from '../app/secret.js';
import { AppError } from '../errors/app-error.js';
import { acquireLease, releaseLease, renewLease } from './lease.js';
import { findJob, jobDefinitions } from './registry.js';
import { runJobOnThread, runsOnOwnThread } from './thread.js';
import { REPORT_LIMIT, yieldToLoop, type JobReport } from './types.js';

export const LEASE_MS = 60_000;

export interface RunOptions {
  dryRun: boolean;
  /** The scheduled time this run is for (scheduler only): the run happens once per slot. */
  slot?: string;
  progress?: (done: number) => void;
  /** Asked between batches; true stops the run cleanly (server shutdown). */
  shouldStop?: () => boolean;
  /**
   * Who asked for this run (an administrator through the API, the CLI): a real run is then
   * audited as `job.run` under that actor, with the request's address and id, beside the entries
   * the job itself writes as `job:<name>`. Scheduled runs have none.
   */
  by?: { actor: string; meta?: RequestMeta | undefined };
}

export const jobNames = () => Object.keys(jobDefinitions);

/**
 * Runs a lifecycle job and returns its report. A real run holds the job's lease for its whole
 * duration; a dry run changes nothing and needs no lease. On a SQLite file the job runs on a
 * thread of its own (thread.ts), so that the server's event loop stays free while it writes.
 * Produces `job.unknown`, `job.running` (another instance holds the lease, or the slot already ran).
 */
export async function runJob(ctx: AppContext, name: string, opts: RunOptions): Promise<JobReport> {
  if (!findJob(ctx, name)) throw new AppError('job.unknown');
  let report: JobReport;
  if (!runsOnOwnThread(ctx)) report = await runJobInPlace(ctx, name, opts);
  else {
    report = await runJobOnThread(ctx, { job: name, dryRun: opts.dryRun, ...(opts.slot ? { slot: opts.slot } : {}) }, opts);
    // Messages the job wrote (warnings, provisioning) leave through this process's dispatcher.
    if (!opts.dryRun) ctx.kickOutbox();
  }
  if (opts.by && !opts.dryRun) {
    await audit(ctx.db.kysely, ctx.clock.now(), {
      actor: opts.by.actor,
      action: 'job.run',
      ip: opts.by.meta?.ip ?? null,
      correlationId: opts.by.meta?.correlationId ?? null,
      details: { job: name, counts: report.counts, startedAt: report.startedAt },
    });
  }
  return report;
}

/** Runs a lifecycle job on this thread (see runJob). */
export async function runJobInPlace(ctx: AppContext, name: string, opts: RunOptions): Promise<JobReport> {
  const def = findJob(ctx, name);
  if (!def) throw new AppError('job.unknown');
  const holder = `${hostname()}:${process.pid}:${randomId(6)}`;
  if (!opts.dryRun && !(await acquireLease(ctx, name, holder, LEASE_MS, opts.slot))) throw new AppError('job.running');
  const startedAt = ctx.clock.now().toISOString();
  const counts: Record<string, number> = {};
  const accounts: JobReport['accounts'] = [];
  let total = 0;
  let truncated = false;
  let renewedAt = Date.now();
  try {
    await def.run(ctx, {
      dryRun: opts.dryRun,
      record(action, username) {
        counts[action] = (counts[action] ?? 0) + 1;
        total++;
        if (accounts.length < REPORT_LIMIT) accounts.push({ username, action });
        else truncated = true;
      },
      async checkpoint() {
        opts.progress?.(total);
        if (opts.shouldStop?.()) throw new Error(`job ${name} stopped`);
        // Renewed well before it lapses, not at every batch (one write saved per batch).
        if (!opts.dryRun && Date.now() - renewedAt > LEASE_MS / 6) {
          if (!(await renewLease(ctx, name, holder, LEASE_MS))) throw new AppError('job.running');
          renewedAt = Date.now();
        }
        await yieldToLoop();
      },
    });
  } finally {
    if (!opts.dryRun) await releaseLease(ctx, name, holder);
  }
  const report: JobReport = { job: name, dryRun: opts.dryRun, startedAt, finishedAt: ctx.clock.now().toISOString(), counts, accounts, truncated };
  ctx.log.info({ job: name, dryRun: opts.dryRun, counts }, 'job finished');
  return report;
}
