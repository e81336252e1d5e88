import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app/context.js';
import { booleanParam, parseAdminQuery } from '../admin/query.js';
import { runJob } from './runner.js';
import { metaOf } from '../app/request-context.js';

/**
 * `POST /api/v1/admin/jobs/{job}?dryRun=true`: runs a lifecycle job now and answers its report.
 * A `dryRun` other than true/false/1/0, or an unknown parameter, is refused with
 * `validation.failed` and runs nothing.
 */
export function registerJobRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.post('/api/v1/admin/jobs/:job', async (req) => {
    const { job } = req.params as { job: string };
    const q = parseAdminQuery(req.query, { dryRun: booleanParam.optional() });
    return runJob(ctx, job, { dryRun: q.dryRun ?? false, by: { actor: `admin:${req.admin?.name ?? 'unknown'}`, meta: metaOf(req) } });
  });
}
