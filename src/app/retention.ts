import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

const DAY = 86_400_000;

/**
 * How long rows that ended are kept after their end, then removed: a flow (what a person typed in
 * it: contacts, names, dates) a week, so that a late click still finds its page "expired"; a
 * session (its address and browser) 30 days, for the helpdesk's questions, beside the audit log
 * that keeps every sign-in; a one-time code a week (the limits that count codes look back an hour).
 */
export const retentionDays = { flows: 7, sessions: 30, codes: 7 } as const;

/** Rows removed per statement: a sweep never holds the database for long, however large its backlog. */
const BATCH = 1000;

type Ended = 'flows' | 'sessions' | 'one_time_codes';

async function sweepTable(db: Kysely<Database>, table: Ended, before: string): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await db
      .deleteFrom(table)
      .where('id', 'in', (eb) => eb.selectFrom(table).select('id').where('expires_at', '<', before).limit(BATCH))
      .executeTakeFirst();
    const n = Number(res.numDeletedRows);
    total += n;
    if (n < BATCH) return total;
    // Between batches, the server's own requests get their turn.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Removes flows, sessions and one-time codes that ended longer ago than `retentionDays` (run by
 * `serve` now and then, by any instance: it is idempotent). Returns how many of each.
 */
export async function sweepEnded(db: Kysely<Database>, at: Date): Promise<{ flows: number; sessions: number; codes: number }> {
  const ago = (days: number) => new Date(at.getTime() - days * DAY).toISOString();
  return {
    flows: await sweepTable(db, 'flows', ago(retentionDays.flows)),
    sessions: await sweepTable(db, 'sessions', ago(retentionDays.sessions)),
    codes: await sweepTable(db, 'one_time_codes', ago(retentionDays.codes)),
  };
}
