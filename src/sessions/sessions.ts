import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { preparedQuery } from '../db/prepared.js';
import type { Database } from '../db/schema.js';

/** Sessions live in the database so that any instance can serve any request. */
export const SESSION_COOKIE = 'tessera_session';

/** Only the SHA-256 of a session token is stored: a copy of the table opens no session. */
export const sessionIdOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** The id of the session a presented token names, or null for a token no session can have. */
export const sessionIdOfToken = (token: string | undefined): string | null => (token && token.length <= 100 ? sessionIdOf(token) : null);

/** Whether an unrevoked session row is still live at `at`. */
export const isLive = (row: { expires_at: string }, at: Date): boolean => row.expires_at > at.toISOString();

const insertSession = preparedQuery((db, id: string, accountId: string, at: string, expiresAt: string, ip: string | null, userAgent: string | null) =>
  db.insertInto('sessions').values({ id, account_id: accountId, created_at: at, expires_at: expiresAt, last_seen_at: at, ip, user_agent: userAgent, revoked_at: null }),
);

export async function createSession(
  tx: Kysely<Database>,
  accountId: string,
  at: Date,
  lifetimeMs: number,
  meta: { ip: string | null; userAgent?: string | null },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(at.getTime() + lifetimeMs);
  await insertSession.run(tx, sessionIdOf(token), accountId, at.toISOString(), expiresAt.toISOString(), meta.ip, meta.userAgent?.slice(0, 300) ?? null);
  return { token, expiresAt };
}

/** The account id of a live session, or null. */
export async function resolveSession(db: Kysely<Database>, token: string, at: Date): Promise<{ sessionId: string; accountId: string } | null> {
  const id = sessionIdOfToken(token);
  if (!id) return null;
  const row = await db
    .selectFrom('sessions')
    .select(['id', 'account_id', 'expires_at'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row || !isLive(row, at)) return null;
  return { sessionId: row.id, accountId: row.account_id };
}

export async function revokeSession(db: Kysely<Database>, sessionId: string, at: Date): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: at.toISOString() }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
}

/** Ends every session of an account (password change, suspension), but `keep` when given. */
export async function revokeAccountSessions(tx: Kysely<Database>, accountId: string, at: Date, keep?: string): Promise<number> {
  let q = tx.updateTable('sessions').set({ revoked_at: at.toISOString() }).where('account_id', '=', accountId).where('revoked_at', 'is', null);
  if (keep) q = q.where('id', '!=', keep);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}
