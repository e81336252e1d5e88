import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { AppContext } from '../app/context.js';
import type { Database } from '../db/schema.js';
import { enqueueLogoutNotices, noticesOf, parseSession, type SessionPayload } from './backchannel.js';

/** When, and under which institution's services (those taking back-channel logout notices). */
export interface Revocation {
  config: AppContext['config'];
  at: Date;
}

/**
 * Ends every single sign-on session of an account and revokes everything issued to it (grants,
 * codes, access and refresh tokens), inside the caller's transaction. Called when the password
 * changes and when the account is suspended, locked, expired or purged. The services signed in
 * through those sessions that take back-channel logout notices are told in the same transaction
 * (backchannel.ts); the others learn of it when their tokens stop working. Returns the notices
 * written.
 */
export async function revokeOidcForAccount(tx: Kysely<Database>, accountId: string, how: Revocation): Promise<number> {
  const sessions = await tx.selectFrom('oidc_payloads').select('payload').where('model', '=', 'Session').where('account_id', '=', accountId).execute();
  const notices = await enqueueLogoutNotices(tx, how.config, how.at, noticesOf(sessions.map((s) => parseSession(s.payload))));
  await tx.deleteFrom('oidc_payloads').where('account_id', '=', accountId).execute();
  return notices;
}

/**
 * Signing out of Tessera: the services this Tessera session signed in to (through the provider's
 * browser session, whose authorizations carry the Tessera session they were made under, see
 * `revokeOnLogout` in provider.ts) lose their grants with every code and token, `offline_access`
 * included, those taking back-channel logout notices are told, and that browser session of the
 * provider ends. Grants made in the person's other sessions (another device) stay. Inside the
 * caller's transaction.
 */
export async function revokeOidcForSession(tx: Kysely<Database>, accountId: string, sessionId: string, how: Revocation): Promise<{ grants: number; notices: number }> {
  const rows = await tx.selectFrom('oidc_payloads').select(['id', 'payload']).where('model', '=', 'Session').where('account_id', '=', accountId).execute();
  const grants: string[] = [];
  const sessions: Array<{ id: string; session: SessionPayload }> = [];
  const mine = (a: { tessera?: string }) => a.tessera === sessionId;
  for (const r of rows) {
    const session = parseSession(r.payload);
    const auths = Object.values(session.authorizations ?? {}).filter(mine);
    if (auths.length === 0) continue;
    sessions.push({ id: r.id, session });
    for (const a of auths) if (a.grantId) grants.push(a.grantId);
  }
  const notices = await enqueueLogoutNotices(tx, how.config, how.at, noticesOf(sessions.map((s) => s.session), mine));
  if (grants.length) await tx.deleteFrom('oidc_payloads').where('grant_id', 'in', grants).execute();
  if (sessions.length) await tx.deleteFrom('oidc_payloads').where('model', '=', 'Session').where('id', 'in', sessions.map((s) => s.id)).execute();
  return { grants: grants.length, notices };
}

/**
 * Ends what one service was given to some accounts (`accounts`, a condition on the rows of
 * `oidc_payloads`): their grants with every code, access and refresh token, inside the caller's
 * transaction. The service is told by a back-channel logout notice for each of their provider
 * sessions signed in to it, when it takes them; the sessions themselves and the other services
 * stay. Called when a person withdraws their consent and when a service stops admitting a
 * population. Returns the grants ended and the notices written.
 */
export async function revokeOidcForService(
  tx: Kysely<Database>,
  clientId: string,
  accounts: (eb: ExpressionBuilder<Database, 'oidc_payloads'>) => Expression<SqlBool>,
  how: Revocation,
): Promise<{ grants: number; notices: number }> {
  const sessions = await tx.selectFrom('oidc_payloads').select('payload').where('model', '=', 'Session').where(accounts).execute();
  const notices = await enqueueLogoutNotices(tx, how.config, how.at, noticesOf(sessions.map((s) => parseSession(s.payload))).filter((n) => n.clientId === clientId));
  const grants = tx.selectFrom('oidc_payloads').select('id').where('model', '=', 'Grant').where('client_id', '=', clientId).where(accounts);
  await tx.deleteFrom('oidc_payloads').where('grant_id', 'in', grants).execute();
  const ended = await tx.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('client_id', '=', clientId).where(accounts).executeTakeFirst();
  await tx.deleteFrom('oidc_payloads').where('client_id', '=', clientId).where('model', '!=', 'Session').where(accounts).execute();
  return { grants: Number(ended.numDeletedRows), notices };
}
