import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUniqueViolation } from '../db/unique-violation.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import { returnUri, serviceSchema } from '../config/institution-schema.js';
import { AppError } from '../errors/app-error.js';
import type { FieldCode } from '../errors/catalog.js';
import { deleteService, listServices, registerService, type Service } from './services.js';

// Bounds for what an administrator registers through the API (the 1 MB body limit would let a
// name of a million characters or thousands of addresses through, shown on every consent page).
const apiText = z.string().min(1).max(200);
const apiUri = returnUri.refine((u) => u.length <= 2000, 'too long');
const serviceInput = serviceSchema
  .omit({ clientSecret: true })
  .extend({
    protocol: z.literal('oidc').default('oidc'),
    name: z.union([apiText, z.object({ en: apiText, it: apiText.optional(), el: apiText.optional() }).strict()]),
    redirectUris: z.array(apiUri).min(1).max(20),
    postLogoutRedirectUris: z.array(apiUri).max(20).default([]),
    jwksUri: apiUri.optional(),
    backchannelLogoutUri: apiUri.optional(),
  })
  .refine((s) => s.tokenEndpointAuthMethod !== 'private_key_jwt' || s.jwksUri, { path: ['jwksUri'], message: 'required' });

const view = (s: Service) => ({
  id: s.id,
  clientId: s.id,
  name: s.name,
  protocol: 'oidc',
  redirectUris: s.redirectUris,
  postLogoutRedirectUris: s.postLogoutRedirectUris,
  populations: s.populations,
  firstParty: s.firstParty,
  tokenEndpointAuthMethod: s.tokenEndpointAuthMethod,
  ...(s.jwksUri ? { jwksUri: s.jwksUri } : {}),
  ...(s.backchannelLogoutUri ? { backchannelLogoutUri: s.backchannelLogoutUri } : {}),
  source: s.source,
});

/**
 * Campus services (API.md "Administration"): register, list, delete.
 * Produces `validation.failed`, `service.exists`, `service.not_found`, `service.in_config`.
 */
export function registerServiceAdminRoutes(admin: FastifyInstance, ctx: AppContext): void {
  const adminAudit = (tx: Kysely<Database>, req: FastifyRequest, action: string, details: Record<string, unknown>) =>
    audit(tx, ctx.clock.now(), {
      actor: `admin:${req.admin?.name ?? 'unknown'}`,
      action,
      accountId: null,
      personId: null,
      ip: req.ip ?? null,
      correlationId: String(req.id),
      details,
    });

  admin.post('/api/v1/admin/services', async (req, reply) => {
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('request.invalid');
    const parsed = serviceInput.safeParse(body);
    if (!parsed.success) {
      const fields: Record<string, FieldCode> = {};
      for (const i of parsed.error.issues) {
        if (i.code === 'unrecognized_keys') {
          for (const k of i.keys) fields[k] ??= 'field.unknown';
          continue;
        }
        const name = String(i.path[0] ?? 'body');
        // A key left out is required; one given with a wrong type or value is invalid.
        fields[name] ??= !(name in body) ? 'field.required' : i.code === 'too_big' && i.path.length === 1 && i.origin === 'string' ? 'field.too_long' : 'field.invalid';
      }
      throw new AppError('validation.failed', { fields });
    }
    const s = parsed.data;
    if ((await listServices(ctx)).some((x) => x.id === s.id)) throw new AppError('service.exists', { fields: { id: 'field.duplicate' } });
    const { protocol: _p, ...rest } = s;
    const created = await ctx.db.kysely
      .transaction()
      .execute(async (tx) => {
        const c = await registerService(ctx, rest, tx);
        await adminAudit(tx, req, 'service.registered', { id: s.id, populations: s.populations });
        return c;
      })
      .catch((e: unknown) => {
        // Registered at the same moment by another request (another instance): the same answer.
        if (isUniqueViolation(e)) throw new AppError('service.exists', { fields: { id: 'field.duplicate' } });
        throw e;
      });
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send({ clientId: created.clientId, ...(created.clientSecret ? { clientSecret: created.clientSecret } : {}), service: view({ ...rest, source: 'api' }) });
  });

  admin.get('/api/v1/admin/services', async () => ({ services: (await listServices(ctx)).map(view) }));

  admin.delete('/api/v1/admin/services/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (ctx.config.services.some((s) => s.id === id)) throw new AppError('service.in_config');
    await ctx.db.kysely.transaction().execute(async (tx) => {
      if (!(await deleteService(tx, id))) throw new AppError('service.not_found');
      await adminAudit(tx, req, 'service.deleted', { id });
    });
    return reply.status(204).send();
  });
}
