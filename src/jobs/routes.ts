import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app/context.js';
import { runJob } from './runner.js';

/** `POST /api/v1/admin/jobs/{job}?dryRun=true`: runs a lifecycle job now and answers its report. */
export function registerJobRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.post('/api/v1/admin/jobs/:job', async (req) => {
    const { job } = req.params as { job: string };
    const q = (req.query ?? {}) as Record<string, unknown>;
    const dryRun = q.dryRun === 'true' || q.dryRun === '1';
    return runJob(ctx, job, { dryRun });
  });
}
