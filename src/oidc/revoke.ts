import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Ends every single sign-on session of an account and revokes everything issued to it (grants,
 * codes, access and refresh tokens), inside the caller's transaction. Called when the password
 * changes and when the account is suspended, locked, expired or purged. Services learn of it
 * when their tokens stop working (refresh and introspection fail); back-channel logout notices
 * are sent only for sign-outs the person makes.
 */
export async function revokeOidcForAccount(tx: Kysely<Database>, accountId: string): Promise<number> {
  const res = await tx.deleteFrom('oidc_payloads').where('account_id', '=', accountId).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Signing out of Tessera: the services this Tessera session signed in to (through the provider's
 * browser session, whose authorizations carry the Tessera session they were made under, see
 * `revokeOnLogout` in provider.ts) lose their grants with every code and token, `offline_access`
 * included, and that browser session of the provider ends. Grants made in the person's other
 * sessions (another device) stay. Inside the caller's transaction; returns the grants ended.
 */
export async function revokeOidcForSession(tx: Kysely<Database>, accountId: string, sessionId: string): Promise<number> {
  const rows = await tx.selectFrom('oidc_payloads').select(['id', 'payload']).where('model', '=', 'Session').where('account_id', '=', accountId).execute();
  const grants: string[] = [];
  const sessions: string[] = [];
  for (const r of rows) {
    const auths = Object.values((JSON.parse(r.payload) as { authorizations?: Record<string, { grantId?: string; tessera?: string }> }).authorizations ?? {});
    const mine = auths.filter((a) => a.tessera === sessionId);
    if (mine.length === 0) continue;
    sessions.push(r.id);
    for (const a of mine) if (a.grantId) grants.push(a.grantId);
  }
  if (grants.length) await tx.deleteFrom('oidc_payloads').where('grant_id', 'in', grants).execute();
  if (sessions.length) await tx.deleteFrom('oidc_payloads').where('model', '=', 'Session').where('id', 'in', sessions).execute();
  return grants.length;
}
