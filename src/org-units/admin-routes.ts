import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { metaOf } from '../app/request-context.js';
import { booleanParam, parseAdminQuery } from '../admin/query.js';
import { AppError } from '../errors/app-error.js';
import { bodiesAsStreams, recordFormatOf } from '../formats/records.js';
import { importOrgUnits } from './import.js';
import { asUtf8, requestCharset } from '../imports/readers.js';
import { nameReferent, removeReferent } from './referents.js';

const referentParams = z.object({ code: z.string().min(1).max(40), username: z.string().min(1).max(200) });

/**
 * Administration of offices (API.md): the org-unit import and naming referents. Registered inside
 * its own plugin so its streaming CSV/NDJSON body parser stays local to these routes.
 */
export async function registerOrgUnitAdminRoutes(admin: FastifyInstance, ctx: AppContext): Promise<void> {
  await admin.register(async (scope) => {
    // The body is handed over as a stream: the import reads it row by row.
    bodiesAsStreams(scope);

    scope.post('/api/v1/admin/org-units', async (req) => {
      const q = parseAdminQuery(req.query, { dryRun: booleanParam.optional() });
      const dryRun = q.dryRun ?? false;
      const format = recordFormatOf(req.headers['content-type']);
      if (!format) throw new AppError('request.unsupported_media_type');
      // The same character sets as the people import (a name in latin1 is read as latin1).
      return importOrgUnits(ctx, asUtf8(req.body as Readable, requestCharset(req.headers['content-type'])), format, { dryRun, actor: `admin:${req.admin?.name ?? 'unknown'}`, correlationId: String(req.id) });
    });

    scope.put('/api/v1/admin/org-units/:code/referents/:username', async (req) => {
      const p = referentParams.safeParse(req.params);
      if (!p.success) throw new AppError('request.invalid');
      const r = await nameReferent(ctx, p.data.code, p.data.username, { actor: `admin:${req.admin?.name ?? 'unknown'}`, meta: metaOf(req) });
      return { orgUnit: p.data.code, username: r.username, offices: r.offices };
    });

    scope.delete('/api/v1/admin/org-units/:code/referents/:username', async (req, reply) => {
      const p = referentParams.safeParse(req.params);
      if (!p.success) throw new AppError('request.invalid');
      await removeReferent(ctx, p.data.code, p.data.username, { actor: `admin:${req.admin?.name ?? 'unknown'}`, meta: metaOf(req) });
      return reply.status(204).send();
    });
  });
}
