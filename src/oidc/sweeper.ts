import type { StartHook } from '../app/start-hooks.js';
import { sweepThrottle } from '../auth/throttle.js';
import { sweepEnded } from '../app/retention.js';
import type { AppContext } from '../app/context.js';

const EVERY_MS = 10 * 60_000;

/**
 * `serve` sweeps, every ten minutes, expired provider rows, the sign-in counters whose window
 * is over, and the flows, sessions and one-time codes that ended long enough ago (app/retention.ts;
 * any instance may; it is idempotent).
 */
export const oidcSweeper: StartHook = async (ctx) => {
  const run = () =>
    sweepOidcPayloads(ctx)
      .then((n) => n && ctx.log.debug({ deleted: n }, 'oidc: expired rows swept'))
      .then(() => {
        const now = ctx.clock.now();
        // Past the longest window a counter is kept for (failures, registrations: an hour).
        const windowMs = Math.max(ctx.config.login.failureWindowMinutes * 60_000, 3_600_000);
        return sweepThrottle(ctx.db.kysely, new Date(now.getTime() - windowMs), now);
      })
      .then((n) => n && ctx.log.debug({ deleted: n }, 'sign-in counters swept'))
      .then(() => sweepEnded(ctx.db.kysely, ctx.clock.now()))
      .then((n) => (n.flows || n.sessions || n.codes) && ctx.log.debug(n, 'ended flows, sessions and codes swept'))
      .catch((err: unknown) => ctx.log.error({ err }, 'sweeping expired rows failed'));
  await run();
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Deletes the provider's expired rows (adapter.ts); returns how many. Here, not beside the adapter:
 * `serve` runs it from the start, and the adapter module loads oidc-provider (some 12 MB) that an
 * instance serving no single sign-on never needs.
 */
export async function sweepOidcPayloads(ctx: AppContext): Promise<number> {
  const res = await ctx.db.kysely
    .deleteFrom('oidc_payloads')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', ctx.clock.now().toISOString())
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
