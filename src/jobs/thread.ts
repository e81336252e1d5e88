import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AppContext } from '../app/context.js';
import type { Env } from '../config/env.js';
import type { InstitutionConfig } from '../config/institution-schema.js';
import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import { systemClock } from '../ports/clock.js';
import type { JobReport } from './types.js';

/** What the job thread is started with: all of it plain data. */
export interface JobThreadInput {
  env: Env;
  config: InstitutionConfig;
  configPath: string;
  isDemo: boolean;
  file: string;
  /** The database's write gate (db/write-gate.ts), shared with the server's connection. */
  gate: SharedArrayBuffer;
  logLevel: string;
  job: string;
  dryRun: boolean;
  slot?: string;
}

/** Messages from the job thread. */
export type JobThreadMessage =
  | { type: 'progress'; done: number }
  | { type: 'done'; report: JobReport }
  | { type: 'failed'; code?: ErrorCode; message: string };

/**
 * Whether jobs run on a thread of their own. A SQLite database is used by one thread at a time and
 * every statement runs synchronously, so a job of a million accounts run on the server's thread
 * would hold its event loop for each batch; on a thread of its own, with its own connection to
 * the same file, the server keeps answering while the job writes. An in-memory database cannot be
 * shared between threads, and a test clock lives in the test's thread: those run in place, as do
 * PostgreSQL jobs (their statements already run off the event loop).
 */
export const runsOnOwnThread = (ctx: AppContext): boolean => ctx.db.dialect === 'sqlite' && ctx.db.file !== undefined && ctx.clock === systemClock;

// The thread starts from this small script: it loads the job module, and when this process runs
// the TypeScript sources (a checkout without a build), registers the TypeScript loader first.
const bootstrap = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.entry);
})().catch((err) => { process.exitCode = 1; throw err; });
`;

/**
 * Runs `job` on a worker thread and resolves with its report. `progress` gets the running count;
 * `shouldStop` is asked twice a second and, once true, the job stops after its current batch.
 */
export function runJobOnThread(
  ctx: AppContext,
  input: Pick<JobThreadInput, 'job' | 'dryRun' | 'slot'>,
  opts: { progress?: (done: number) => void; shouldStop?: () => boolean },
): Promise<JobReport> {
  const here = fileURLToPath(import.meta.url);
  const fromSource = extname(here) === '.ts';
  const entry = new URL(`./thread-main${extname(here)}`, import.meta.url).href;
  const data: JobThreadInput & { entry: string; loader?: string } = {
    ...input,
    env: ctx.env,
    config: ctx.config,
    configPath: ctx.configPath,
    isDemo: ctx.isDemo,
    file: ctx.db.file!,
    gate: ctx.db.writeGate!(),
    logLevel: ctx.log.level,
    entry,
    ...(fromSource ? { loader: import.meta.resolve('tsx/esm/api') } : {}),
  };
  return new Promise<JobReport>((resolve, reject) => {
    const worker = new Worker(bootstrap, { eval: true, workerData: data });
    let settled = false;
    const stopTimer = opts.shouldStop
      ? setInterval(() => {
          if (opts.shouldStop!()) worker.postMessage({ type: 'stop' });
        }, 500)
      : undefined;
    stopTimer?.unref();
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (stopTimer) clearInterval(stopTimer);
      fn();
    };
    worker.on('message', (m: JobThreadMessage) => {
      if (m.type === 'progress') opts.progress?.(m.done);
      else if (m.type === 'done') settle(() => resolve(m.report));
      else settle(() => reject(m.code ? new AppError(m.code) : new Error(m.message)));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`job ${input.job}: its thread ended (exit code ${code}) without a report`))));
  });
}
