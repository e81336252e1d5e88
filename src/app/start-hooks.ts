import { seedDemoPeople } from '../imports/demo-seed.js';
import { oidcSweeper } from '../oidc/sweeper.js';
import { startOutboxDispatcher } from '../outbox/start-dispatcher.js';
import type { AppContext } from './context.js';
import { startScheduler } from '../jobs/scheduler.js';

/**
 * What `serve` starts beside the HTTP server (demo data, outbox dispatcher, job scheduler), in
 * order. Each returns a function that stops it, if it runs in the background.
 */
export type StartHook = (ctx: AppContext) => Promise<(() => Promise<void> | void) | void>;

export const startHooks: StartHook[] = [(ctx) => seedDemoPeople(ctx), oidcSweeper, async (ctx) => startScheduler(ctx), startOutboxDispatcher];
