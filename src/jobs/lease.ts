import { sql } from 'kysely';
import type { AppContext } from '../app/context.js';

/**
 * Database leases: only one instance runs a job at a time when several share a database. A lease
 * expires by itself (a crashed holder does not block the job for ever) and is renewed between
 * batches. `slot` (a scheduled time) makes a scheduled run happen once even when every instance's
 * scheduler fires for it.
 */
export async function acquireLease(ctx: AppContext, job: string, holder: string, ttlMs: number, slot?: string): Promise<boolean> {
  const now = ctx.clock.now();
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  const db = ctx.db.kysely;
  await db
    .insertInto('job_leases')
    .values({ job, holder, expires_at: expires, last_slot: slot ?? null })
    .onConflict((oc) =>
      oc
        .column('job')
        .doUpdateSet({ holder, expires_at: expires, last_slot: sql<string | null>`coalesce(excluded.last_slot, job_leases.last_slot)` })
        .where((eb) =>
          eb.and([
            eb.or([eb('job_leases.expires_at', '<=', now.toISOString()), eb('job_leases.holder', '=', holder)]),
            ...(slot ? [eb.or([eb('job_leases.last_slot', 'is', null), eb('job_leases.last_slot', '!=', slot)])] : []),
          ]),
        ),
    )
    .execute();
  const row = await db.selectFrom('job_leases').select(['holder', 'expires_at']).where('job', '=', job).executeTakeFirst();
  return row?.holder === holder && row.expires_at === expires;
}

/** Extends a held lease; false when another holder has taken it (this run must stop). */
export async function renewLease(ctx: AppContext, job: string, holder: string, ttlMs: number): Promise<boolean> {
  const expires = new Date(ctx.clock.now().getTime() + ttlMs).toISOString();
  const r = await ctx.db.kysely.updateTable('job_leases').set({ expires_at: expires }).where('job', '=', job).where('holder', '=', holder).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function releaseLease(ctx: AppContext, job: string, holder: string): Promise<void> {
  await ctx.db.kysely.updateTable('job_leases').set({ expires_at: ctx.clock.now().toISOString() }).where('job', '=', job).where('holder', '=', holder).execute();
}
