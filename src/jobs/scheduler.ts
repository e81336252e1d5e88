import { CronExpressionParser } from 'cron-parser';
import type { AppContext } from '../app/context.js';
import { AppError } from '../errors/app-error.js';
import { runJob } from './runner.js';

/** setTimeout's limit is about 24.8 days; longer waits are taken in steps. */
const MAX_WAIT = 6 * 3_600_000;

/**
 * The first time after `now` that the cron expression `expr` names, read in `jobs.timezone` (the
 * institution's time zone when not set): "0 3 * * *" is 03:00 on the institution's clocks, winter
 * and summer. On the night the clocks go forward a time that does not exist runs an hour later;
 * on the night they go back a time that occurs twice runs once.
 */
export function nextRun(ctx: Pick<AppContext, 'config'>, expr: string, now: Date): Date {
  return CronExpressionParser.parse(expr, { currentDate: now, tz: ctx.config.jobs.timezone ?? ctx.config.institution.timeZone }).next().toDate();
}

/**
 * Runs the lifecycle jobs on the institution's schedule (`jobs.schedule`, cron expressions in
 * `jobs.timezone`, see nextRun). Every instance runs a scheduler; the job lease and the run's slot (its
 * scheduled time) make each scheduled run happen on one instance only. Returns a stop function
 * that cancels the timers and lets a running job stop after its current batch.
 */
export function startScheduler(ctx: AppContext): () => Promise<void> {
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  let stopping = false;

  const plan = (job: string, expr: string) => {
    if (stopping) return;
    const now = new Date();
    const next = nextRun(ctx, expr, now);
    const wait = next.getTime() - now.getTime();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (wait > MAX_WAIT) return plan(job, expr);
      const p = runJob(ctx, job, { dryRun: false, slot: next.toISOString(), shouldStop: () => stopping })
        .catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'job.running') return; // another instance has it
          ctx.log.error({ job, err: err instanceof Error ? err.message : String(err) }, 'scheduled job failed');
        })
        .finally(() => {
          running.delete(p);
          plan(job, expr);
        });
      running.add(p);
    }, Math.min(wait, MAX_WAIT));
    timer.unref();
    timers.add(timer);
  };

  for (const [job, expr] of Object.entries(ctx.config.jobs.schedule)) if (expr) plan(job, expr);
  return async () => {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    await Promise.allSettled([...running]);
  };
}
