import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

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
