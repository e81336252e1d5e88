import type { Kysely, Selectable } from 'kysely';
import type { Database, SpidRequestTable } from '../db/schema.js';

export type PendingRequest = Selectable<SpidRequestTable>;

export async function savePendingRequest(db: Kysely<Database>, r: PendingRequest): Promise<void> {
  await db.insertInto('spid_requests').values(r).execute();
}

export async function findPendingRequest(db: Kysely<Database>, id: string): Promise<PendingRequest | null> {
  if (id.length > 100) return null;
  return (await db.selectFrom('spid_requests').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/**
 * Marks a request as answered. Only one response can ever consume it: the update is conditional
 * on the request being unconsumed, so of two concurrent or replayed responses one wins.
 */
export async function consumePendingRequest(db: Kysely<Database>, id: string, at: Date): Promise<boolean> {
  const res = await db
    .updateTable('spid_requests')
    .set({ consumed_at: at.toISOString() })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Removes requests that expired more than a day ago (housekeeping). */
export async function purgePendingRequests(db: Kysely<Database>, at: Date): Promise<number> {
  const res = await db.deleteFrom('spid_requests').where('expires_at', '<', new Date(at.getTime() - 86_400_000).toISOString()).executeTakeFirst();
  return Number(res.numDeletedRows);
}
