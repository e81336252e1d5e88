import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import { preparedQuery } from '../db/prepared.js';
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

const revokeCodes = preparedQuery((db, purpose: string, subject: string, at: string) =>
  db.updateTable('one_time_codes').set({ revoked_at: at }).where('purpose', '=', purpose).where('subject', '=', subject).where('used_at', 'is', null).where('revoked_at', 'is', null),
);
const insertCode = preparedQuery(
  (db, id: string, purpose: string, subject: string, codeHash: string, destination: string | null, maxAttempts: number, createdAt: string, expiresAt: string) =>
    db.insertInto('one_time_codes').values({
      id,
      purpose,
      subject,
      code_hash: codeHash,
      destination,
      attempts: 0,
      max_attempts: maxAttempts,
      created_at: createdAt,
      expires_at: expiresAt,
      used_at: null,
      revoked_at: null,
    }),
);

/** Issues a code inside `tx` (with the message that carries it). Returns the plaintext once. */
export async function issueCode(ctx: AppContext, tx: Kysely<Database>, o: IssueOptions): Promise<{ id: string; code: string; expiresAt: Date }> {
  const now = ctx.clock.now();
  await revokeCodes.run(tx, o.purpose, o.subject, now.toISOString());
  const code = generateCode(o.format);
  const id = randomId();
  const expiresAt = new Date(now.getTime() + o.ttlMs);
  await insertCode.run(tx, id, o.purpose, o.subject, hashOf(ctx, o.purpose, o.subject, code), o.destination ?? null, o.maxAttempts ?? 5, now.toISOString(), expiresAt.toISOString());
  return { id, code, expiresAt };
}

const issuedSince = preparedQuery((db, purpose: string, subject: string, since: string) =>
  db.selectFrom('one_time_codes').select('created_at').where('purpose', '=', purpose).where('subject', '=', subject).where('created_at', '>=', since).orderBy('created_at', 'desc'),
);

/** How many codes were issued for a subject since `since` (resend limits); `db` may be the issuing transaction. */
export async function countIssued(ctx: AppContext, purpose: string, subject: string, since: Date, db: Kysely<Database> = ctx.db.kysely): Promise<{ count: number; last: Date | null }> {
  const rows = await issuedSince.all(db, purpose, subject, since.toISOString());
  return { count: rows.length, last: rows[0] ? new Date(rows[0].created_at) : null };
}

/** `superseded`: one of the subject's earlier codes, revoked when a newer one was issued. */
export type VerifyResult = 'ok' | 'invalid' | 'superseded' | 'expired' | 'locked' | 'none';

/** The newest code of a subject that was not revoked by a later one. */
const newestCode = preparedQuery((db, purpose: string, subject: string) =>
  db
    .selectFrom('one_time_codes')
    .select(['id', 'code_hash', 'attempts', 'max_attempts', 'expires_at', 'used_at'])
    .where('purpose', '=', purpose)
    .where('subject', '=', subject)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .limit(1),
);
const currentCode = (db: Kysely<Database>, purpose: string, subject: string) => newestCode.first(db, purpose, subject);

/** Consumes a code if every condition still holds at the moment of the write. */
const consumeCode = preparedQuery((db, id: string, codeHash: string, now: string, maxAttempts: number) =>
  db
    .updateTable('one_time_codes')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('code_hash', '=', codeHash)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts),
);
const revokedWithHash = preparedQuery((db, purpose: string, subject: string, codeHash: string) =>
  db.selectFrom('one_time_codes').select('id').where('purpose', '=', purpose).where('subject', '=', subject).where('code_hash', '=', codeHash).where('revoked_at', 'is not', null).limit(1),
);
const countAttempt = preparedQuery((db, id: string) =>
  db
    .updateTable('one_time_codes')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('used_at', 'is', null),
);

/**
 * Checks a code for a subject and consumes it when right. The consuming UPDATE carries every
 * condition (unused, unexpired, attempts left, hash), so of many concurrent submissions of the
 * right code exactly one gets `ok`. A wrong code counts an attempt; at the limit the code is dead.
 * One of the subject's earlier codes, replaced by a newer one, is `superseded` and counts no
 * attempt: someone opening the link of an older email (or a mail scanner opening it for them)
 * must not use up the link of the newest. Costs one HMAC and two or three indexed statements:
 * no slow hash.
 */
export async function verifyCode(ctx: AppContext, tx: Kysely<Database>, purpose: string, subject: string, code: string): Promise<VerifyResult> {
  const now = ctx.clock.now().toISOString();
  const current = await currentCode(tx, purpose, subject);
  if (!current || current.used_at) return 'none';
  if (current.attempts >= current.max_attempts) return 'locked';
  if (current.expires_at <= now) return 'expired';
  const hash = hashOf(ctx, purpose, subject, code.trim());
  if ((await consumeCode.run(tx, current.id, hash, now, current.max_attempts)) === 1) return 'ok';
  if (await revokedWithHash.first(tx, purpose, subject, hash)) return 'superseded';
  await countAttempt.run(tx, current.id);
  return current.attempts + 1 >= current.max_attempts ? 'locked' : 'invalid';
}

/**
 * True when `code` is the subject's latest code and was used: a link opened again after it did
 * its work shows what it did, while any other code learns nothing.
 */
export async function wasUsed(ctx: AppContext, db: Kysely<Database>, purpose: string, subject: string, code: string): Promise<boolean> {
  const current = await currentCode(db, purpose, subject);
  if (!current?.used_at) return false;
  return ctx.secrets.hmacEquals(`otc:${purpose}`, `${subject}\u0000${code.trim()}`, current.code_hash);
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
