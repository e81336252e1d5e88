import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUniqueViolation } from '../db/unique-violation.js';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { z, type ZodError } from 'zod';
import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import { appRedirectIssues, CLEARTEXT_REDIRECT, cleartextAddresses, redirectUri, returnUri, serviceSchema } from '../config/institution-schema.js';
import { AppError } from '../errors/app-error.js';
import { controlCharacter } from '../flows/kernel/input.js';
import type { FieldCode } from '../errors/catalog.js';
import { revokeOidcForService } from './revoke.js';
import { deleteService, listServices, lockRegisteredService, registerService, rotateClientSecret, updateService, type Service } from './services.js';

// Bounds for what an administrator registers through the API (the 1 MB body limit would let a
// name of a million characters or thousands of addresses through, shown on every consent page).
// A name is shown on the sign-in and consent pages: no NUL, line break or text-direction mark
// (which would reverse what people read there), as people's names.
const apiText = z
  .string()
  .min(1)
  .max(200)
  .refine((v) => !controlCharacter.test(v), 'field.control_character');
const apiUri = returnUri.refine((u) => u.length <= 2000, 'too long');
const apiRedirectUri = redirectUri.refine((u) => u.length <= 2000, 'too long');
const serviceInput = serviceSchema
  .omit({ clientSecret: true })
  .extend({
    protocol: z.literal('oidc').default('oidc'),
    name: z.union([apiText, z.object({ en: apiText, it: apiText.optional(), el: apiText.optional() }).strict()]),
    redirectUris: z.array(apiRedirectUri).min(1).max(20),
    postLogoutRedirectUris: z.array(apiUri).max(20).default([]),
    jwksUri: apiUri.optional(),
    backchannelLogoutUri: apiUri.optional(),
  })
  .refine((s) => s.tokenEndpointAuthMethod !== 'private_key_jwt' || s.jwksUri, { path: ['jwksUri'], message: 'required' })
  .superRefine((s, c) => {
    for (const i of appRedirectIssues(s)) c.addIssue({ code: 'custom', ...i });
  });

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

/** Keys of a registration that a change may not hold: the service's identity. */
const READ_ONLY = ['id', 'protocol'] as const;

/** A JSON object body, or `request.invalid`. */
function objectBody(req: FastifyRequest): Record<string, unknown> {
  const body: unknown = req.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('request.invalid');
  return body as Record<string, unknown>;
}

/**
 * The field codes of a failed validation: an unknown key is named, a key left out of `given` is
 * required, one given with a wrong type or value is invalid (or too long, or holding a control
 * character, for a string).
 */
function fieldsOf(error: ZodError, given: Record<string, unknown>): Record<string, FieldCode> {
  const fields: Record<string, FieldCode> = {};
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) fields[k] ??= 'field.unknown';
      continue;
    }
    const name = String(i.path[0] ?? 'body');
    fields[name] ??= !(name in given) ? 'field.required' : i.message === 'field.control_character' ? 'field.control_character' : i.code === 'too_big' && i.path.length === 1 && i.origin === 'string' ? 'field.too_long' : 'field.invalid';
  }
  return fields;
}

/**
 * A registered service with a change applied, checked by the same rules as a registration (the
 * change is laid over the service and the whole checked, so rules between fields hold too). A key
 * set to null removes an optional address (`jwksUri`, `backchannelLogoutUri`); `id` and
 * `protocol` cannot change. Throws `validation.failed` naming the fields.
 */
function applyChange(current: Service, change: Record<string, unknown>): Omit<Service, 'source'> {
  let fields: Record<string, FieldCode> = {};
  if (Object.keys(change).length === 0) fields.body = 'field.required';
  const { source: _s, ...stored } = current;
  const merged: Record<string, unknown> = { ...stored };
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(change)) {
    if ((READ_ONLY as readonly string[]).includes(k)) fields[k] = 'field.read_only';
    else if (v === null && removable(k)) delete merged[k];
    else merged[k] = given[k] = v;
  }
  const parsed = serviceInput.safeParse(merged);
  if (!parsed.success) fields = { ...fieldsOf(parsed.error, given), ...fields };
  if (!parsed.success || Object.keys(fields).length) throw new AppError('validation.failed', { fields });
  const { protocol: _p, ...next } = parsed.data;
  return next;
}

/** A key of a registration that may be left out and has no default (an optional address). */
function removable(key: string): boolean {
  const r = (serviceInput.shape as Record<string, z.ZodType>)[key]?.safeParse(undefined);
  return r?.success === true && r.data === undefined;
}

/** The keys whose value a change alters, with the value before and after (never a secret: services hold none here). */
function changesOf(before: Service, after: Omit<Service, 'source'>): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of Object.keys({ ...before, ...after }) as Array<keyof Service>) {
    if (k === 'source' || k === 'id') continue;
    const from = before[k];
    const to = after[k];
    if (JSON.stringify(from) !== JSON.stringify(to)) out[k] = { from: from ?? null, to: to ?? null };
  }
  return out;
}

/**
 * The condition "the account's person is not of these populations" on rows of `oidc_payloads`
 * (an account without a person record is of none).
 */
const notAdmitted = (populations: readonly string[]) => (eb: ExpressionBuilder<Database, 'oidc_payloads'>) =>
  eb.exists(
    eb
      .selectFrom('accounts')
      .leftJoin('persons', 'persons.id', 'accounts.person_id')
      .select('accounts.id')
      .whereRef('accounts.id', '=', 'oidc_payloads.account_id')
      .where((w) => w.or([w('persons.population', 'is', null), w('persons.population', 'not in', populations)])),
  );

/**
 * Campus services (API.md "Administration"): register, list, change, rotate the secret, delete.
 * Produces `request.invalid`, `validation.failed`, `service.exists`, `service.not_found`,
 * `service.in_config`, `service.no_client_secret`.
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

  /** A service of the configuration file is changed there, not through the API. */
  const refuseConfigured = (id: string) => {
    if (ctx.config.services.some((s) => s.id === id)) throw new AppError('service.in_config');
  };

  /**
   * In production a service's addresses (where people are sent back, its keys, its logout
   * notices) are https, http only on a loopback address (cleartextAddresses): `uri.https_required`
   * on the field. Elsewhere a test service may use one.
   */
  const refuseCleartext = (s: Parameters<typeof cleartextAddresses>[0]) => {
    if (ctx.env.NODE_ENV !== 'production') return;
    const found = cleartextAddresses(s);
    if (found.length) throw new AppError('validation.failed', { fields: Object.fromEntries(found.map((f) => [f.path[0], CLEARTEXT_REDIRECT])) });
  };

  admin.post('/api/v1/admin/services', async (req, reply) => {
    const body = objectBody(req);
    const parsed = serviceInput.safeParse(body);
    if (!parsed.success) throw new AppError('validation.failed', { fields: fieldsOf(parsed.error, body) });
    const s = parsed.data;
    refuseCleartext(s);
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

  /**
   * Changes a registered service: what the provider reads of it applies from the next request, on
   * every instance. Grants survive, but not for the people of a population it no longer admits:
   * theirs end at once (with their tokens), and the service is told by back-channel logout.
   */
  admin.patch('/api/v1/admin/services/:id', async (req) => {
    const { id } = req.params as { id: string };
    refuseConfigured(id);
    const change = objectBody(req);
    const at = ctx.clock.now();
    const after = await ctx.db.kysely.transaction().execute(async (tx) => {
      const before = await lockRegisteredService(ctx, tx, id);
      if (!before) throw new AppError('service.not_found');
      const next = applyChange(before, change);
      refuseCleartext(next);
      const changes = changesOf(before, next);
      if (Object.keys(changes).length === 0) return next;
      await updateService(ctx, tx, before, next);
      const narrowed = before.populations.some((p) => !next.populations.includes(p));
      const ended = narrowed ? await revokeOidcForService(tx, id, notAdmitted(next.populations), { config: ctx.config, at }) : null;
      await adminAudit(tx, req, 'service.updated', { id, changes, ...(ended ? { grantsEnded: ended.grants } : {}) });
      return next;
    });
    return view({ ...after, source: 'api' });
  });

  /** A new client secret for a registered service that authenticates with one; the old one stops at once. */
  admin.post('/api/v1/admin/services/:id/secret', async (req, reply) => {
    const { id } = req.params as { id: string };
    refuseConfigured(id);
    const clientSecret = await ctx.db.kysely.transaction().execute(async (tx) => {
      const service = await lockRegisteredService(ctx, tx, id);
      if (!service) throw new AppError('service.not_found');
      if (service.tokenEndpointAuthMethod !== 'client_secret_basic') throw new AppError('service.no_client_secret');
      const secret = await rotateClientSecret(ctx, tx, id);
      await adminAudit(tx, req, 'service.secret_rotated', { id });
      return secret;
    });
    return reply.header('cache-control', 'no-store').send({ clientId: id, clientSecret });
  });

  admin.delete('/api/v1/admin/services/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    refuseConfigured(id);
    await ctx.db.kysely.transaction().execute(async (tx) => {
      if (!(await deleteService(tx, id))) throw new AppError('service.not_found');
      await adminAudit(tx, req, 'service.deleted', { id });
    });
    return reply.status(204).send();
  });
}
