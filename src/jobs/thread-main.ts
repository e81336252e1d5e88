import { parentPort, workerData } from 'node:worker_threads';
import { createContext } from '../app/container.js';
import { connect } from '../db/connect.js';
import { AppError } from '../errors/app-error.js';
import { runJobInPlace } from './runner.js';
import type { JobThreadInput, JobThreadMessage } from './thread.js';

/** The job thread (see thread.ts): its own context and connection, one job, then it ends. */
const input = workerData as JobThreadInput;
const post = (m: JobThreadMessage) => parentPort!.postMessage(m);
let stop = false;
parentPort!.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stop = true;
});

const ctx = await createContext({ env: input.env, config: input.config, db: connect(`sqlite:${input.file}`, { writeGate: { memory: input.gate, role: 'job' } }), migrate: false, logLevel: input.logLevel });
ctx.configPath = input.configPath;
ctx.isDemo = input.isDemo;
try {
  const report = await runJobInPlace(ctx, input.job, {
    dryRun: input.dryRun,
    ...(input.slot ? { slot: input.slot } : {}),
    progress: (done) => post({ type: 'progress', done }),
    shouldStop: () => stop,
  });
  post({ type: 'done', report });
} catch (err) {
  post(err instanceof AppError ? { type: 'failed', code: err.code, message: err.message } : { type: 'failed', message: err instanceof Error ? err.message : String(err) });
} finally {
  await ctx.db.close();
  parentPort!.close();
}
