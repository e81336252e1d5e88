import type { StartHook } from '../app/start-hooks.js';
import { provisioningHandler } from '../provisioning/run-once.js';
import { targetSpecs } from '../provisioning/targets.js';
import { OutboxDispatcher } from './dispatcher.js';
import { keptChannels, sendersFromEnv } from './senders.js';

/**
 * The `serve` start hook: one dispatcher for the configured message channels and, when a
 * provisioning target is configured, the provisioning operations.
 */
export const startOutboxDispatcher: StartHook = async (ctx) => {
  const senders = sendersFromEnv(ctx);
  const kept = keptChannels(ctx);
  if (kept.length > 0) {
    if (ctx.env.NODE_ENV === 'production') ctx.log.warn({ channels: kept }, 'no transport configured: these messages are not delivered');
    else ctx.log.info({ channels: kept }, 'no transport configured: messages are kept and shown at /dev/outbox');
  }
  const batchHandlers = targetSpecs(ctx).length > 0 ? [provisioningHandler(ctx)] : [];
  if (senders.length === 0 && batchHandlers.length === 0) return;
  return new OutboxDispatcher(ctx, { senders, batchHandlers }).start();
};
