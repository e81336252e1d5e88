import type { StartHook } from '../app/start-hooks.js';
import { runProvisioningOnce } from './run-once.js';
import { closeTargets, targetSpecs } from './targets.js';

/** How often the interim processor looks for due provisioning rows. */
const intervalMs = 5_000;

/**
 * Delivers provisioning rows in the background while `serve` runs (only when a target is
 * configured). Interim: the generic outbox dispatcher takes this over (see run-once.ts).
 */
export const provisioningStartHook: StartHook = async (ctx) => {
  if (targetSpecs(ctx).length === 0) return;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = runProvisioningOnce(ctx)
      .catch((e: unknown) => ctx.log.error({ err: e instanceof Error ? e.message : String(e) }, 'provisioning.run_failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  let timer = setTimeout(tick, 0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
    await closeTargets(ctx);
  };
};
