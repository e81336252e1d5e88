import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { preparedQuery } from '../db/prepared.js';
import { calendarDate, startOfDate } from '../i18n/dates.js';

/**
 * The audit actions that show the person using their account, which purge-unused (its purge and
 * its warning) reads as "used": a sign-in (password or SPID, `login.succeeded`) and a campus
 * service keeping them signed in with its refresh token (`oidc.token_refreshed`, written at most
 * once a day by recordDailyUse).
 */
export const useActions = ['login.succeeded', 'oidc.token_refreshed'] as const;

/**
 * The account's newest audit entries, on its index: today's use, when recorded, is among them. A
 * bounded read, however long the account's history (a filter on action and time would walk all of
 * it on a day with no use yet); a day with more entries than this before its first use at worst
 * records that use twice.
 */
const RECENT = 50;
const recentEntries = preparedQuery((db, accountId: string) =>
  db.selectFrom('audit_log').select(['action', 'at']).where('account_id', '=', accountId).orderBy('id', 'desc').limit(RECENT),
);

/**
 * Records a use of the account that is not a sign-in (a service refreshing its tokens): an audit
 * entry `action`, unless the account's use is already on record for today (a day of the
 * institution's time zone; a sign-in counts). The token endpoint calls it on every refresh: one
 * bounded read of its newest entries, and one insert a day per account. Two refreshes of the same account at the same
 * instant may both write one.
 */
export async function recordDailyUse(
  ctx: AppContext,
  accountId: string,
  action: (typeof useActions)[number],
  details: Record<string, unknown>,
  meta: Partial<RequestMeta> = {},
): Promise<boolean> {
  const now = ctx.clock.now();
  const today = startOfDate(calendarDate(now, ctx.config.institution.timeZone), ctx.config.institution.timeZone).toISOString();
  const recent = await recentEntries.all(ctx.db.kysely, accountId);
  if (recent.some((e) => e.at >= today && (useActions as readonly string[]).includes(e.action))) return false;
  await audit(ctx.db.kysely, now, { actor: `account:${accountId}`, action, accountId, ip: meta.ip ?? null, correlationId: meta.correlationId ?? null, details });
  return true;
}
