import type { Expression, ExpressionBuilder, Kysely } from 'kysely';
import { bulkInsert } from '../db/bulk-insert.js';
import type { Dialect } from '../db/connect.js';
import { preparedQuery } from '../db/prepared.js';
import type { Database } from '../db/schema.js';

/**
 * A condition on an account row (`accounts.id` in scope): the audit log holds no `action` (or none
 * of several) of that account later than `after.at` (a value, or a column of the query such as a
 * job mark's time), or at it too with `>=`. Lifecycle jobs ask it: no use since, no change of
 * status since.
 */
export function noAuditEntry(eb: ExpressionBuilder<Database, 'accounts'>, action: string | readonly string[], after: { op: '>' | '>='; at: string | Expression<string> }) {
  return eb.not(
    eb.exists(
      eb
        .selectFrom('audit_log')
        .select('audit_log.id')
        .whereRef('audit_log.account_id', '=', 'accounts.id')
        .where('audit_log.action', typeof action === 'string' ? '=' : 'in', action)
        .where('audit_log.at', after.op, after.at),
    ),
  );
}

/** Who did something: the person themselves, an administrator, a job, the importer. */
export type Actor = string;

export interface AuditEntry {
  actor: Actor;
  action: string;
  accountId?: string | null;
  personId?: string | null;
  ip?: string | null;
  correlationId?: string | null;
  details?: Record<string, unknown>;
}

/** Request facts every audit entry carries. */
export interface RequestMeta {
  ip: string | null;
  correlationId: string | null;
  userAgent?: string | null;
}

const insertEntry = preparedQuery(
  (db, at: string, actor: string, action: string, accountId: string | null, personId: string | null, ip: string | null, correlationId: string | null, details: string) =>
    db.insertInto('audit_log').values({ at, actor, action, account_id: accountId, person_id: personId, ip, correlation_id: correlationId, details }),
);

/**
 * Appends to the audit log. Call it inside the transaction that makes the change, so the change
 * and its record are one. Never put a secret in `details`.
 */
export async function audit(tx: Kysely<Database>, at: Date, e: AuditEntry): Promise<void> {
  await insertEntry.run(tx, at.toISOString(), e.actor, e.action, e.accountId ?? null, e.personId ?? null, e.ip ?? null, e.correlationId ?? null, JSON.stringify(e.details ?? {}));
}


/**
 * Appends many entries with multi-row statements (the importer writes one per imported person),
 * inside the caller's transaction like audit().
 */
export async function auditMany(tx: Kysely<Database>, dialect: Dialect, at: Date, entries: AuditEntry[]): Promise<void> {
  const when = at.toISOString();
  await bulkInsert(
    tx,
    dialect,
    'audit_log',
    ['at', 'actor', 'action', 'account_id', 'person_id', 'ip', 'correlation_id', 'details'],
    entries.map((e) => [when, e.actor, e.action, e.accountId ?? null, e.personId ?? null, e.ip ?? null, e.correlationId ?? null, JSON.stringify(e.details ?? {})]),
  );
}

export interface TimelineEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  ip: string | null;
  correlationId: string | null;
  details: Record<string, unknown>;
}

/**
 * A person's timeline: entries about their account or their person record, oldest first — the
 * newest `limit` of them, or, with `before` (an entry id), the `limit` before that entry.
 * `more` tells whether older entries remain (ask again with `before` = the first entry's id).
 */
export async function timeline(
  db: Kysely<Database>,
  accountId: string | null,
  personId: string | null,
  opts: { before?: number; limit?: number } = {},
): Promise<{ entries: TimelineEntry[]; more: boolean }> {
  const limit = opts.limit ?? 1000;
  let q = db
    .selectFrom('audit_log')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(accountId ? [eb('account_id', '=', accountId)] : []),
        ...(personId ? [eb('person_id', '=', personId)] : []),
      ]),
    );
  if (opts.before !== undefined) q = q.where('id', '<', opts.before);
  const newest = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const more = newest.length > limit;
  const rows = newest.slice(0, limit).reverse();
  const entries = rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    ip: r.ip,
    correlationId: r.correlation_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
  return { entries, more };
}
