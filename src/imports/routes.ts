import { Transform, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { populationIds } from '../config/institution-schema.js';
import { AppError } from '../errors/app-error.js';
import { booleanParam, parseAdminQuery } from '../admin/query.js';
import { importPeople } from './pipeline.js';
import { bodiesAsStreams, recordFormatOf } from '../formats/records.js';
import { readRows, requestCharset } from './readers.js';

/** Large enough for a registrar's whole population (millions of rows), small enough to bound a mistake. */
export const importBodyLimit = 2 * 1024 * 1024 * 1024;

const queryShape = {
  population: z.enum(populationIds).optional(),
  dryRun: booleanParam.optional(),
};

/** Counts the bytes going through and fails with `request.too_large` past the limit. */
function limited(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > limit) done(new AppError('request.too_large'));
      else done(null, chunk);
    },
  });
}

/**
 * `POST /api/v1/admin/imports?population=…&dryRun=true` with a `text/csv` or
 * `application/x-ndjson` body, read as a stream. Answers the import report. Errors:
 * `request.invalid` (a bad or unknown query parameter, named in `fields`), `request.unsupported_media_type`, `request.too_large`,
 * `import.unsupported_charset` (a `charset` parameter other than UTF-8 and the sets of
 * importCharset; UTF-8 when none is given), `import.malformed`.
 */
export function registerImportRoutes(admin: FastifyInstance, ctx: AppContext): void {
  // Its own scope, so these body parsers (which hand over the raw stream) serve only this route.
  admin.register(async (scope) => {
    bodiesAsStreams(scope, { bodyLimit: importBodyLimit });

    scope.post('/api/v1/admin/imports', async (req) => {
      // Strict: a misspelt `?dryrun=true` is refused, never read as a real import.
      const q = parseAdminQuery(req.query, queryShape, {
        code: 'request.invalid',
        invalid: (field) => (field === 'population' ? 'population.invalid' : 'field.invalid'),
      });
      const format = recordFormatOf(req.headers['content-type']);
      if (!format) throw new AppError('request.unsupported_media_type');
      const charset = requestCharset(req.headers['content-type']);
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > importBodyLimit) throw new AppError('request.too_large');
      const body = (req.body as Readable).pipe(limited(importBodyLimit));
      (req.body as Readable).on('error', (err) => body.destroy(err));
      return importPeople(ctx, readRows(format, body, charset), {
        population: q.population,
        dryRun: q.dryRun ?? false,
        who: `admin:${req.admin?.name ?? 'unknown'}`,
        meta: { ip: req.ip, correlationId: String(req.id) },
      });
    });
  });
}
