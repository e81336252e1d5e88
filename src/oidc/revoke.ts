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
