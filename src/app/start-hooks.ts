import { provisioningStartHook } from '../provisioning/start-hook.js';
import type { AppContext } from './context.js';

/**
 * What `serve` starts beside the HTTP server (demo data, outbox dispatcher, job scheduler), in
 * order. Each returns a function that stops it, if it runs in the background.
 */
export type StartHook = (ctx: AppContext) => Promise<(() => Promise<void> | void) | void>;

export const startHooks: StartHook[] = [provisioningStartHook];
