import type { ExpressionBuilder } from 'kysely';
import { purgeableStatuses, purgeSelected } from '../accounts/purge.js';
import { useActions } from '../accounts/use.js';
import type { AppContext } from '../app/context.js';
import { audit, noAuditEntry } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import { purgeWarningEmail } from '../flows/registration/emails.js';
import { calendarDate, startOfDate } from '../i18n/dates.js';
import { isLocale, type Locale } from '../i18n/index.js';
import { enqueueMessage } from '../outbox/enqueue.js';
import { BatchSizer, type JobDefinition, type JobRun } from './types.js';

const JOB = 'purge-unused';
/** 1 January of `y` as the institution's people count years: its midnight in `timeZone`. */
const yearStart = (y: number, timeZone: string) => startOfDate(`${y}-01-01`, timeZone).toISOString();

type Eb = ExpressionBuilder<Database & { a: Database['accounts'] }, 'accounts' | 'persons'>;

/**
 * No use of the account since `since`: no sign-in (password or SPID) and no day a service
 * refreshed its tokens (accounts/use.ts). The purge and its warning both ask it.
 */
const unusedSince = (eb: Eb, since: string) => noAuditEntry(eb as unknown as ExpressionBuilder<Database, 'accounts'>, useActions, { op: '>=', at: since });

function candidates(ctx: AppContext, after: string, limit: number) {
  return ctx.db.kysely
    .selectFrom('accounts')
    // CROSS JOIN: SQLite then walks accounts in id order (the keyset) instead of starting from the
    // persons' population index and sorting every candidate for each batch. PostgreSQL plans it
    // as the inner join it is.
    .crossJoin('persons')
    .whereRef('persons.id', '=', 'accounts.person_id')
    // Only what a purge needs; the warning adds the addresses and the name (reading those three
    // for every candidate made choosing a purge's batches about a third slower).
    .select(['accounts.id as id', 'accounts.person_id as person_id', 'accounts.username as username'])
    .where('persons.population', 'in', ctx.config.lifecycle.purgeUnused.populations)
    .where('accounts.status', 'in', purgeableStatuses)
    .where('accounts.id', '>', after)
    .orderBy('accounts.id')
    .limit(limit);
}

/**
 * purge-unused (unimi): registrations made up to 31 December and never used during the following
 * year are cancelled; `warnDaysBefore` days before each 1 January a warning goes to those that
 * would be cancelled then. Each warning is marked, so reruns never send it twice.
 */
export const purgeUnused: JobDefinition = {
  name: JOB,
  description: 'cancel registrations never used during the year after they were made (with a warning email before)',
  async run(ctx, run) {
    const pu = ctx.config.lifecycle.purgeUnused;
    if (!pu.enabled) return;
    const now = ctx.clock.now();
    // Years as the institution counts them: a registration made on 1 January at 00:30 in Rome
    // (23:30 UTC the day before) belongs to the new year.
    const tz = ctx.config.institution.timeZone;
    const y = Number(calendarDate(now, tz).slice(0, 4));
    await purge(ctx, run, yearStart(y - 1, tz));
    const purgeDate = new Date(yearStart(y + 1, tz));
    if (pu.warnDaysBefore > 0 && now.getTime() >= purgeDate.getTime() - pu.warnDaysBefore * 86_400_000) {
      await warn(ctx, run, yearStart(y, tz), yearStart(y - 1, tz), `${y + 1}-01-01`);
    }
  },
};

/** Registered before `since` and not used since: purged, in batches. */
async function purge(ctx: AppContext, run: JobRun, since: string) {
  const batch = new BatchSizer(ctx.config.lifecycle.batchSize);
  const due = (after: string) =>
    candidates(ctx, after, batch.size)
      .where('accounts.created_at', '<', since)
      .where((eb) => unusedSince(eb as Eb, since));
  let after = '';
  for (;;) {
    let done: Array<{ id: string; username: string }>;
    if (run.dryRun) {
      done = await due(after).execute();
    } else {
      const started = performance.now();
      // The batch is chosen inside the purge's transaction (its accounts held on PostgreSQL), so
      // nothing can change between choosing and purging.
      done = await ctx.db.kysely.transaction().execute(async (tx) => {
        let q = due(after);
        if (ctx.db.dialect === 'postgres') q = q.forUpdate(['accounts']);
        const rows = await tx.executeQuery(q.compile());
        return purgeSelected(tx, ctx.db.dialect, rows.rows, { actor: `job:${JOB}`, reason: 'registration.unused', at: ctx.clock.now(), provisioning: ctx });
      });
      batch.record(done.length, performance.now() - started);
    }
    if (done.length === 0) break;
    after = done.at(-1)!.id;
    for (const p of done) run.record('purged', p.username);
    await run.checkpoint();
  }
}

/**
 * The language of a person's lifecycle emails: the one they last chose (kept with the account),
 * else the one they registered in (kept with the record, or the language of their registration's
 * flow), else the institution's default.
 */
export function personLocale(ctx: AppContext, accountLocale: string | null, extra: string | null, flowLocale: string | null): Locale {
  if (isLocale(accountLocale)) return accountLocale;
  let kept: unknown;
  try {
    kept = extra ? (JSON.parse(extra) as { locale?: unknown }).locale : undefined;
  } catch {
    kept = undefined;
  }
  if (isLocale(kept)) return kept;
  if (isLocale(flowLocale)) return flowLocale;
  return ctx.config.institution.defaultLocale;
}

/** Those that the next 1 January's run will purge, not yet warned for it. */
async function warn(ctx: AppContext, run: JobRun, since: string, previous: string, purgeOn: string) {
  const size = ctx.config.lifecycle.batchSize;
  const mark = `warned:${purgeOn}`;
  let after = '';
  for (;;) {
    const rows = await candidates(ctx, after, size)
      .leftJoin('registrations', 'registrations.account_id', 'accounts.id')
      .leftJoin('flows', 'flows.id', 'registrations.flow_id')
      .select(['accounts.email as email', 'accounts.locale as accountLocale', 'persons.personal_email as personalEmail', 'persons.given_name as givenName', 'persons.extra as extra', 'flows.locale as flowLocale'])
      .where('accounts.created_at', '<', since)
      .where((eb) => unusedSince(eb as Eb, since))
      // Not already due now (those were purged above; in a dry run they are listed there).
      .where((eb) => eb.or([eb('accounts.created_at', '>=', previous), eb.not(unusedSince(eb as Eb, previous))]))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('job_marks').select('job_marks.account_id').whereRef('job_marks.account_id', '=', 'accounts.id').where('job_marks.job', '=', JOB).where('job_marks.mark', '=', mark))))
      .execute();
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    const now = ctx.clock.now();
    if (!run.dryRun) {
      await ctx.db.kysely.transaction().execute(async (tx) => {
        for (const r of rows) {
          const to = r.personalEmail ?? r.email;
          const locale = personLocale(ctx, r.accountLocale, r.extra, r.flowLocale);
          if (to) await enqueueMessage(tx, now, purgeWarningEmail(ctx, locale, { to, name: r.givenName, username: r.username, purgeOn }));
          await tx.insertInto('job_marks').values({ job: JOB, account_id: r.id, mark, at: now.toISOString() }).execute();
          await audit(tx, now, { actor: `job:${JOB}`, action: 'account.purge_warning_sent', accountId: r.id, details: { purgeOn, emailed: to !== null } });
        }
      });
    }
    for (const r of rows) run.record('warned', r.username);
    await run.checkpoint();
  }
}
