import { transitionAccount } from '../accounts/lifecycle.js';
import { purgeAccounts } from '../accounts/purge.js';
import { toAccount } from '../accounts/repository.js';
import { sql, type ExpressionBuilder } from 'kysely';
import type { AppContext } from '../app/context.js';
import { audit, noAuditEntry } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import type { AccountStatus } from '../domain/account-status.js';
import { calendarDate, startOfDate } from '../i18n/dates.js';
import { revokeAccountSessions } from '../sessions/sessions.js';
import type { JobDefinition, JobRun } from './types.js';

const JOB = 'expire-ceased';
const MARK = 'suspended';
const IN_USE: AccountStatus[] = ['active', 'locked', 'pending_activation', 'provisional'];
const STOPPED: AccountStatus[] = ['suspended', 'expired'];

type Eb = ExpressionBuilder<Database & { job_marks: Database['job_marks'] }, 'accounts' | 'persons' | 'job_marks'>;

/**
 * The account's grace period started with its current suspension: no change of status since the
 * mark. A mark left from an earlier time the record ceased (the account was enrolled again, then
 * suspended anew, e.g. by the import) is stale, and the new suspension starts a new grace period.
 */
const markIsCurrent = (eb: Eb) => noAuditEntry(eb as unknown as ExpressionBuilder<Database, 'accounts'>, 'account.status_changed', { op: '>', at: sql.ref<string>('job_marks.at') });

/**
 * expire-ceased: accounts whose registrar record has ceased are suspended (a record never
 * activated: expired), then purged once `ceasedGraceDays` have passed. Each step is a lifecycle
 * transition recorded in the audit log; the start of the grace period is kept as a job mark, so
 * the job can be rerun at any time and resumes after a crash. Each record it purges leaves a marker
 * (accounts/purged-records.ts): the registrar keeps listing it, and the import must not create the
 * person again until the registrar enrols them again.
 */
export const expireCeased: JobDefinition = {
  name: JOB,
  description: 'suspend accounts whose registrar record ceased, purge them after the grace period',
  async run(ctx, run) {
    const marked = await suspend(ctx, run);
    // Without a grace period the run purges at once what it has just suspended: a dry run, which
    // marks nothing, reports those too, in the order the run would purge them (by account).
    const pending = run.dryRun && ctx.config.lifecycle.ceasedGraceDays === 0 ? marked.sort((a, b) => (a.id < b.id ? -1 : 1)) : [];
    await purgeAfterGrace(ctx, run, pending);
  },
};

/** Suspends (or expires, or starts the grace of) the accounts of ceased records; returns those marked. */
async function suspend(ctx: AppContext, run: JobRun): Promise<Array<{ id: string; username: string }>> {
  const db = ctx.db.kysely;
  const size = ctx.config.lifecycle.batchSize;
  const marked: Array<{ id: string; username: string }> = [];
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('accounts')
      // CROSS JOIN keeps SQLite walking accounts in id order (the keyset); see purge-unused.
      .crossJoin('persons')
      .whereRef('persons.id', '=', 'accounts.person_id')
      .selectAll('accounts')
      .where('persons.registrar_status', '=', 'ceased')
      .where((eb) =>
        eb.or([
          eb('accounts.status', 'in', IN_USE),
          eb.and([
            eb('accounts.status', 'in', STOPPED),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('job_marks')
                  .select('job_marks.account_id')
                  .whereRef('job_marks.account_id', '=', 'accounts.id')
                  .where('job_marks.job', '=', JOB)
                  .where('job_marks.mark', '=', MARK)
                  .where((e) => markIsCurrent(e as unknown as Eb)),
              ),
            ),
          ]),
        ]),
      )
      .where('accounts.id', '>', after)
      .orderBy('accounts.id')
      .limit(size)
      .execute();
    if (rows.length === 0) return marked;
    after = rows.at(-1)!.id;
    const accounts = rows.map(toAccount);
    const action = (s: AccountStatus) => (s === 'provisional' ? 'expired' : IN_USE.includes(s) ? 'suspended' : 'grace_started');
    if (!run.dryRun) {
      const now = ctx.clock.now();
      await db.transaction().execute(async (tx) => {
        for (const a of accounts) {
          const how = { actor: `job:${JOB}`, reason: 'registrar.ceased', at: now, provisioning: ctx };
          if (a.status === 'provisional') await transitionAccount(tx, a, 'expired', how);
          else if (IN_USE.includes(a.status)) await transitionAccount(tx, a, 'suspended', how);
          else await audit(tx, now, { actor: how.actor, action: 'account.grace_started', accountId: a.id, personId: a.personId, details: { status: a.status, reason: how.reason } });
          await revokeAccountSessions(tx, a.id, now);
          // A record that ceased again after a reactivation starts a new grace period.
          await tx.deleteFrom('job_marks').where('job', '=', JOB).where('account_id', '=', a.id).where('mark', '=', MARK).execute();
          await tx.insertInto('job_marks').values({ job: JOB, account_id: a.id, mark: MARK, at: now.toISOString() }).execute();
        }
      });
    }
    for (const a of accounts) run.record(action(a.status), a.username);
    if (run.dryRun && ctx.config.lifecycle.ceasedGraceDays === 0) marked.push(...accounts.map((a) => ({ id: a.id, username: a.username })));
    await run.checkpoint();
  }
}

/** Purges the accounts whose grace period is over; `pending`: in a dry run, those the run would have marked just now. */
async function purgeAfterGrace(ctx: AppContext, run: JobRun, pending: Array<{ id: string; username: string }>) {
  const db = ctx.db.kysely;
  const size = ctx.config.lifecycle.batchSize;
  // In days of the institution: suspended on 10 January, purged from 9 July on (180 days), at
  // whatever time of that day the run comes, summer time or not. Marks made before the start of
  // the day after the last day that many days ago are due.
  const tz = ctx.config.institution.timeZone;
  const today = Date.parse(`${calendarDate(ctx.clock.now(), tz)}T00:00:00Z`);
  const cutoff = startOfDate(new Date(today - (ctx.config.lifecycle.ceasedGraceDays - 1) * 86_400_000).toISOString().slice(0, 10), tz).toISOString();
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('accounts')
      // CROSS JOIN keeps SQLite walking accounts in id order (the keyset); see purge-unused.
      .crossJoin('persons')
      .whereRef('persons.id', '=', 'accounts.person_id')
      .innerJoin('job_marks', (j) => j.onRef('job_marks.account_id', '=', 'accounts.id').on('job_marks.job', '=', JOB).on('job_marks.mark', '=', MARK))
      .select(['accounts.id as id', 'accounts.username as username'])
      .where('persons.registrar_status', '=', 'ceased')
      .where('accounts.status', 'in', STOPPED)
      .where('job_marks.at', '<', cutoff)
      .where((eb) => markIsCurrent(eb as unknown as Eb))
      .where('accounts.id', '>', after)
      .orderBy('accounts.id')
      .limit(size)
      .execute();
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    if (run.dryRun) {
      for (const r of rows) {
        while (pending.length > 0 && pending[0]!.id < r.id) run.record('purged', pending.shift()!.username);
        run.record('purged', r.username);
      }
    } else {
      const done = await db.transaction().execute((tx) => purgeAccounts(tx, ctx.db.dialect, rows.map((r) => r.id), { actor: `job:${JOB}`, reason: 'registrar.ceased', at: ctx.clock.now(), provisioning: ctx, markRecords: ctx }));
      for (const p of done) run.record('purged', p.username);
    }
    await run.checkpoint();
  }
  for (const p of pending) run.record('purged', p.username);
}
