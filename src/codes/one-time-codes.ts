import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import type { Database } from '../db/schema.js';

/**
 * One-time codes: PINs, password-reset codes and email-link tokens. Only a keyed HMAC (bound to
 * purpose and subject) is stored; a code is single-use, short-lived and attempt-limited; issuing a
 * new one for the same subject revokes the previous ones.
 */
export interface IssueOptions {
  purpose: string;
  /** What the code is for: a flow id, an account id… A code never works for another subject. */
  subject: string;
  ttlMs: number;
  maxAttempts?: number;
  /** `digits` for a numeric PIN (default 6), or `token` for a long URL-safe token. */
  format?: { digits: number } | 'token';
  destination?: string | null;
}

const hashOf = (ctx: AppContext, purpose: string, subject: string, code: string) => ctx.secrets.hmac(`otc:${purpose}`, `${subject}\u0000${code}`);

export function generateCode(format: IssueOptions['format'] = { digits: 6 }): string {
  if (format === 'token') return randomId(32);
  let s = '';
  for (let i = 0; i < format.digits; i++) s += String(randomInt(10));
  return s;
}

/** Issues a code inside `tx` (with the message that carries it). Returns the plaintext once. */
export async function issueCode(ctx: AppContext, tx: Kysely<Database>, o: IssueOptions): Promise<{ id: string; code: string; expiresAt: Date }> {
  const now = ctx.clock.now();
  await tx
    .updateTable('one_time_codes')
    .set({ revoked_at: now.toISOString() })
    .where('purpose', '=', o.purpose)
    .where('subject', '=', o.subject)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
  const code = generateCode(o.format);
  const id = randomId();
  const expiresAt = new Date(now.getTime() + o.ttlMs);
  await tx
    .insertInto('one_time_codes')
    .values({
      id,
      purpose: o.purpose,
      subject: o.subject,
      code_hash: hashOf(ctx, o.purpose, o.subject, code),
      destination: o.destination ?? null,
      attempts: 0,
      max_attempts: o.maxAttempts ?? 5,
      created_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
      used_at: null,
      revoked_at: null,
    })
    .execute();
  return { id, code, expiresAt };
}

/** How many codes were issued for a subject since `since` (resend limits). */
export async function countIssued(ctx: AppContext, purpose: string, subject: string, since: Date): Promise<{ count: number; last: Date | null }> {
  const rows = await ctx.db.kysely
    .selectFrom('one_time_codes')
    .select('created_at')
    .where('purpose', '=', purpose)
    .where('subject', '=', subject)
    .where('created_at', '>=', since.toISOString())
    .orderBy('created_at', 'desc')
    .execute();
  return { count: rows.length, last: rows[0] ? new Date(rows[0].created_at) : null };
}

export type VerifyResult = 'ok' | 'invalid' | 'expired' | 'locked' | 'none';

/** The newest code of a subject that was not revoked by a later one. */
function currentCode(db: Kysely<Database>, purpose: string, subject: string) {
  return db
    .selectFrom('one_time_codes')
    .select(['id', 'code_hash', 'attempts', 'max_attempts', 'expires_at', 'used_at'])
    .where('purpose', '=', purpose)
    .where('subject', '=', subject)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Checks a code for a subject and consumes it when right. The consuming UPDATE carries every
 * condition (unused, unexpired, attempts left, hash), so of many concurrent submissions of the
 * right code exactly one gets `ok`. A wrong code counts an attempt; at the limit the code is dead.
 * Costs one HMAC and two indexed statements: no slow hash.
 */
export async function verifyCode(ctx: AppContext, tx: Kysely<Database>, purpose: string, subject: string, code: string): Promise<VerifyResult> {
  const now = ctx.clock.now().toISOString();
  const current = await currentCode(tx, purpose, subject);
  if (!current || current.used_at) return 'none';
  if (current.attempts >= current.max_attempts) return 'locked';
  if (current.expires_at <= now) return 'expired';
  const hash = hashOf(ctx, purpose, subject, code.trim());
  const used = await tx
    .updateTable('one_time_codes')
    .set({ used_at: now })
    .where('id', '=', current.id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('code_hash', '=', hash)
    .where('expires_at', '>', now)
    .where('attempts', '<', current.max_attempts)
    .executeTakeFirst();
  if (Number(used.numUpdatedRows) === 1) return 'ok';
  await tx
    .updateTable('one_time_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', current.id)
    .where('used_at', 'is', null)
    .execute();
  return current.attempts + 1 >= current.max_attempts ? 'locked' : 'invalid';
}

/**
 * True when `code` is the subject's current code and could still be used (unused, unexpired,
 * attempts left). Consumes nothing and counts no attempt: for showing a link's form before the
 * code is submitted (mail scanners that open links must not use them up).
 */
export async function peekCode(ctx: AppContext, db: Kysely<Database>, purpose: string, subject: string, code: string): Promise<boolean> {
  const current = await currentCode(db, purpose, subject);
  if (!current || current.used_at || current.attempts >= current.max_attempts || current.expires_at <= ctx.clock.now().toISOString()) return false;
  return ctx.secrets.hmacEquals(`otc:${purpose}`, `${subject}\u0000${code.trim()}`, current.code_hash);
}
