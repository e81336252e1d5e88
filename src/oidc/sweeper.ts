import type { StartHook } from '../app/start-hooks.js';
import { sweepOidcPayloads } from './adapter.js';
import { lazyProvider } from './lazy-provider.js';

const EVERY_MS = 10 * 60_000;

/** `serve` builds the provider at start, so the signing keys exist before the first request. */
export const oidcWarmUp: StartHook = async (ctx) => {
  await lazyProvider(ctx);
};

/** `serve` sweeps expired provider rows every ten minutes (any instance may; it is idempotent). */
export const oidcSweeper: StartHook = async (ctx) => {
  const run = () =>
    sweepOidcPayloads(ctx)
      .then((n) => n && ctx.log.debug({ deleted: n }, 'oidc: expired rows swept'))
      .catch((err: unknown) => ctx.log.error({ err }, 'oidc: sweeping expired rows failed'));
  await run();
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
};
