import { randomBytes } from 'node:crypto';
import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { Database } from '../db/schema.js';
import { isAppRedirect, type LocalizedText, type PopulationId, type ServiceConfig } from '../config/institution-schema.js';
import { seal, unseal } from '../app/seal.js';

/** A campus service as the provider and the admin API see it. */
export interface Service {
  id: string;
  name: LocalizedText;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  populations: PopulationId[];
  firstParty: boolean;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'private_key_jwt' | 'none';
  jwksUri?: string | undefined;
  backchannelLogoutUri?: string | undefined;
  /** Where it is declared: the institution's file, or the administration API. */
  source: 'config' | 'api';
}

type StoredMetadata = Omit<Service, 'id' | 'name' | 'source'>;

const secretKey = (ctx: AppContext) => ctx.secrets.key('oidc-client-secrets');

/** A new client secret, sealed for its row (the secret is bound to the service's id). */
function newSecret(ctx: AppContext, id: string): { secret: string; sealed: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, sealed: seal(secretKey(ctx), secret, `oidc-client:${id}`) };
}

/** A row of `oidc_services` as a service. */
const fromRow = (r: { id: string; name: string; metadata: string }): Service => ({
  id: r.id,
  name: JSON.parse(r.name) as LocalizedText,
  ...(JSON.parse(r.metadata) as StoredMetadata),
  source: 'api',
});

function fromConfig(s: ServiceConfig): Service {
  return {
    id: s.id,
    name: s.name,
    redirectUris: s.redirectUris,
    postLogoutRedirectUris: s.postLogoutRedirectUris,
    populations: s.populations,
    firstParty: s.firstParty,
    tokenEndpointAuthMethod: s.tokenEndpointAuthMethod,
    jwksUri: s.jwksUri,
    backchannelLogoutUri: s.backchannelLogoutUri,
    source: 'config',
  };
}

/** A service of the institution's file, or undefined. */
export function findConfigService(ctx: AppContext, id: string): Service | undefined {
  const s = ctx.config.services.find((x) => x.id === id && x.protocol === 'oidc');
  return s ? fromConfig(s) : undefined;
}

/** Every campus service speaking OpenID Connect: the institution's file first, then the registered ones. */
export async function listServices(ctx: AppContext): Promise<Service[]> {
  const rows = await ctx.db.kysely.selectFrom('oidc_services').select(['id', 'name', 'metadata']).orderBy('id').execute();
  return [
    ...ctx.config.services.filter((s) => s.protocol === 'oidc').map(fromConfig),
    ...rows.map(fromRow),
  ];
}

/** The name of a service (for the pages that take a person back to it), or null. */
export async function serviceNameOf(ctx: AppContext, id: string): Promise<LocalizedText | null> {
  const fromFile = findConfigService(ctx, id);
  if (fromFile) return fromFile.name;
  const r = await ctx.db.kysely.selectFrom('oidc_services').select('name').where('id', '=', id).executeTakeFirst();
  return r ? (JSON.parse(r.name) as LocalizedText) : null;
}

/** One service with its client secret (in clear, for the provider), or null. */
export async function findServiceWithSecret(ctx: AppContext, id: string): Promise<{ service: Service; secret: string | null } | null> {
  const fromFile = ctx.config.services.find((s) => s.id === id && s.protocol === 'oidc');
  if (fromFile) return { service: fromConfig(fromFile), secret: fromFile.clientSecret ?? null };
  const r = await ctx.db.kysely.selectFrom('oidc_services').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  return { service: fromRow(r), secret: r.sealed_secret ? unseal(secretKey(ctx), r.sealed_secret, `oidc-client:${r.id}`) : null };
}

/**
 * Stores a service registered by the administration API and returns its client secret, the only
 * time it is shown. The secret is kept sealed (AES-256-GCM under a key derived from
 * TESSERA_SECRET), not hashed: the provider compares it itself for client_secret_basic and would
 * also need it as the HMAC key of client_secret_jwt or HS256 tokens. A copy of the database
 * alone does not reveal it.
 */
export async function registerService(
  ctx: AppContext,
  s: Omit<Service, 'source'>,
  tx: Kysely<Database> = ctx.db.kysely,
): Promise<{ clientId: string; clientSecret: string | null }> {
  const secret = s.tokenEndpointAuthMethod === 'client_secret_basic' ? newSecret(ctx, s.id) : null;
  const { id, name, ...metadata } = s;
  await tx
    .insertInto('oidc_services')
    .values({
      id,
      name: JSON.stringify(name),
      metadata: JSON.stringify(metadata),
      sealed_secret: secret?.sealed ?? null,
      created_at: ctx.clock.now().toISOString(),
    })
    .execute();
  return { clientId: id, clientSecret: secret?.secret ?? null };
}

/**
 * A service registered through the administration API, read inside the caller's transaction and
 * held (on PostgreSQL, row-locked; SQLite runs one transaction at a time) until it ends, so two
 * changes of one service at once apply one after the other. Null when there is none.
 */
export async function lockRegisteredService(ctx: AppContext, tx: Kysely<Database>, id: string): Promise<Service | null> {
  let q = tx.selectFrom('oidc_services').select(['id', 'name', 'metadata']).where('id', '=', id);
  if (ctx.db.dialect === 'postgres') q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r ? fromRow(r) : null;
}

/**
 * Stores the new description of a registered service, inside the caller's transaction. The
 * provider reads services on every use, so every instance sees the change at its next request.
 * The client secret follows the authentication method: one that needs none drops it (the old one
 * stops working), and a service switched to `client_secret_basic` gets a new one that nobody has
 * seen, until the administrator rotates it (`rotateClientSecret`) to obtain one.
 */
export async function updateService(ctx: AppContext, tx: Kysely<Database>, before: Service, after: Omit<Service, 'source'>): Promise<void> {
  const { id, name, ...metadata } = after;
  const needsSecret = after.tokenEndpointAuthMethod === 'client_secret_basic';
  const hadSecret = before.tokenEndpointAuthMethod === 'client_secret_basic';
  await tx
    .updateTable('oidc_services')
    .set({
      name: JSON.stringify(name),
      metadata: JSON.stringify(metadata),
      ...(needsSecret === hadSecret ? {} : { sealed_secret: needsSecret ? newSecret(ctx, id).sealed : null }),
    })
    .where('id', '=', id)
    .execute();
}

/**
 * Gives a registered service a new client secret, inside the caller's transaction, and returns it
 * (the only time it is shown). The previous one stops working at once, on every instance.
 */
export async function rotateClientSecret(ctx: AppContext, tx: Kysely<Database>, id: string): Promise<string> {
  const { secret, sealed } = newSecret(ctx, id);
  await tx.updateTable('oidc_services').set({ sealed_secret: sealed }).where('id', '=', id).execute();
  return secret;
}

/**
 * Deletes a service registered by the administration API with everything issued to it (grants,
 * codes, access and refresh tokens) and the consents people gave it, inside the caller's
 * transaction: a service registered again under the same id starts from nothing.
 */
export async function deleteService(tx: Kysely<Database>, id: string): Promise<boolean> {
  const res = await tx.deleteFrom('oidc_services').where('id', '=', id).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) return false;
  await tx.deleteFrom('oidc_payloads').where('client_id', '=', id).execute();
  await tx.deleteFrom('oidc_consents').where('client_id', '=', id).execute();
  return true;
}

/** The provider's client metadata of a service. */
export function clientMetadataOf(s: Service, secret: string | null): ClientMetadata {
  return {
    client_id: s.id,
    client_name: typeof s.name === 'string' ? s.name : s.name.en,
    ...(secret ? { client_secret: secret } : {}),
    redirect_uris: s.redirectUris,
    // An app's scheme among them makes it a native app (RFC 8252): its loopback addresses then
    // take any port, as an app listening on one gets.
    application_type: s.redirectUris.some(isAppRedirect) ? 'native' : 'web',
    post_logout_redirect_uris: s.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: s.tokenEndpointAuthMethod,
    // Every ID token says when the person signed in, so a service can ask for a fresh sign-in.
    require_auth_time: true,
    ...(s.jwksUri ? { jwks_uri: s.jwksUri } : {}),
    ...(s.backchannelLogoutUri ? { backchannel_logout_uri: s.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    tessera_populations: s.populations,
    tessera_first_party: s.firstParty,
  };
}

/** Whether a service (the provider's client) admits a person of `population` (none without a person record, nor without a client). */
export const admits = (client: { [key: string]: unknown } | undefined, population: string | null): boolean =>
  ((client?.['tessera_populations'] as string[] | undefined) ?? []).includes(population ?? '');

/**
 * The provider's `Client` model, read from the services on every lookup: a service registered
 * through the API logs people in at once, on every instance, a changed one (a new secret, new
 * addresses, other populations) is seen as changed at once, and a deleted one stops at once.
 * (oidc-provider keeps the clients it builds under a hash of this metadata, so a change builds a
 * new one.)
 */
export class ServiceClientAdapter implements Adapter {
  constructor(private readonly ctx: AppContext) {}
  async find(id: string): Promise<AdapterPayload | undefined> {
    const found = await findServiceWithSecret(this.ctx, id);
    return found ? (clientMetadataOf(found.service, found.secret) as AdapterPayload) : undefined;
  }
  async upsert(): Promise<void> {
    throw new Error('campus services are registered through the administration API');
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

/**
 * What the login page of an OpenID Connect interaction shows: the name of the service it is for,
 * and the username the service suggested (`login_hint`), or null.
 */
export async function serviceOfInteraction(ctx: AppContext, uid: string): Promise<{ name: LocalizedText; loginHint: string | null } | null> {
  const row = await ctx.db.kysely
    .selectFrom('oidc_payloads')
    .select(['payload', 'expires_at'])
    .where('model', '=', 'Interaction')
    .where('id', '=', uid)
    .executeTakeFirst();
  if (!row || (row.expires_at && row.expires_at <= ctx.clock.now().toISOString())) return null;
  const params = (JSON.parse(row.payload) as { params?: { client_id?: unknown; login_hint?: unknown } }).params;
  if (typeof params?.client_id !== 'string') return null;
  const name = (await findServiceWithSecret(ctx, params.client_id))?.service.name;
  if (!name) return null;
  // Only a hint that could be a username (one line, the field's length) fills the field.
  const hint = typeof params.login_hint === 'string' ? params.login_hint.trim() : '';
  return { name, loginHint: hint && hint.length <= 120 && !/[\u0000-\u001f\u007f]/.test(hint) ? hint : null };
}
