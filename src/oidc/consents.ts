import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import type { LocalizedText } from '../config/institution-schema.js';
import type { Database } from '../db/schema.js';
import { revokeOidcForService } from './revoke.js';
import { serviceNameOf } from './services.js';

/** What a person allowed a service that is not first-party. */
export interface Consent {
  scopes: string[];
  claims: string[];
}

const words = (s: string) => s.split(' ').filter(Boolean);

/**
 * The consent a person gave a service, remembered beyond the browser session (the provider's
 * grants end with it, or at sign-out): the next sign-in asks only for what was never allowed.
 */
export async function consentOf(db: Kysely<Database>, accountId: string, clientId: string): Promise<Consent | null> {
  const row = await db.selectFrom('oidc_consents').select(['scopes', 'claims']).where('account_id', '=', accountId).where('client_id', '=', clientId).executeTakeFirst();
  return row ? { scopes: words(row.scopes), claims: JSON.parse(row.claims) as string[] } : null;
}

/** Adds what the person has just allowed to what they allowed this service before. */
export async function rememberConsent(db: Kysely<Database>, accountId: string, clientId: string, allowed: Consent, at: Date): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const before = await consentOf(tx, accountId, clientId);
    const scopes = [...new Set([...(before?.scopes ?? []), ...allowed.scopes])].sort().join(' ');
    const claims = JSON.stringify([...new Set([...(before?.claims ?? []), ...allowed.claims])].sort());
    await tx
      .insertInto('oidc_consents')
      .values({ account_id: accountId, client_id: clientId, scopes, claims, granted_at: at.toISOString() })
      .onConflict((oc) => oc.columns(['account_id', 'client_id']).doUpdateSet({ scopes, claims, granted_at: at.toISOString() }))
      .execute();
  });
}

/** Forgets every consent of an account (its access has ended), inside the caller's transaction. */
export async function forgetConsents(tx: Kysely<Database>, accountId: string): Promise<void> {
  await tx.deleteFrom('oidc_consents').where('account_id', '=', accountId).execute();
}

/** A service a person allowed, as the account page and `GET /api/v1/session/consents` show it. */
export interface AllowedService {
  service: string;
  name: LocalizedText;
  scopes: string[];
  grantedAt: string;
}

/** The services the person allowed (those that ask: not first-party), newest first. */
export async function allowedServices(ctx: AppContext, accountId: string): Promise<AllowedService[]> {
  const rows = await ctx.db.kysely.selectFrom('oidc_consents').select(['client_id', 'scopes', 'granted_at']).where('account_id', '=', accountId).orderBy('granted_at', 'desc').execute();
  const out: AllowedService[] = [];
  for (const r of rows) {
    const name = await serviceNameOf(ctx, r.client_id);
    // A service deleted meanwhile took its consents with it; a leftover row is not shown.
    if (name) out.push({ service: r.client_id, name, scopes: words(r.scopes), grantedAt: r.granted_at });
  }
  return out;
}

/**
 * Takes back what the person allowed a service, in one transaction: the consent is forgotten (the
 * next sign-in asks again), and everything issued to that service for this account ends (grants,
 * codes, access and refresh tokens); the service is told by a back-channel logout notice when it
 * takes them. Other services are not touched. Returns false when there was nothing to withdraw.
 */
export async function withdrawConsent(ctx: AppContext, accountId: string, clientId: string, meta: RequestMeta): Promise<boolean> {
  const at = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (tx) => {
    const res = await tx.deleteFrom('oidc_consents').where('account_id', '=', accountId).where('client_id', '=', clientId).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) return false;
    await revokeOidcForService(tx, clientId, (eb) => eb('account_id', '=', accountId), { config: ctx.config, at });
    await audit(tx, at, { actor: `account:${accountId}`, action: 'oidc.consent_withdrawn', accountId, ip: meta.ip, correlationId: meta.correlationId, details: { service: clientId } });
    return true;
  });
}
