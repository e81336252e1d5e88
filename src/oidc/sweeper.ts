import type { StartHook } from '../app/start-hooks.js';
import { sweepThrottle } from '../auth/throttle.js';
import { sweepOidcPayloads } from './adapter.js';
import { lazyProvider } from './lazy-provider.js';

const EVERY_MS = 10 * 60_000;

/** `serve` builds the provider at start, so the signing keys exist before the first request. */
export const oidcWarmUp: StartHook = async (ctx) => {
  await lazyProvider(ctx);
};

/**
 * `serve` sweeps, every ten minutes, expired provider rows and the sign-in counters whose window
 * is over (any instance may; it is idempotent).
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
      .catch((err: unknown) => ctx.log.error({ err }, 'sweeping expired rows failed'));
  await run();
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
};
