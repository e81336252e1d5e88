import type { StartHook } from '../app/start-hooks.js';
import { backchannelHandler } from '../oidc/backchannel-delivery.js';
import { provisioningHandler } from '../provisioning/run-once.js';
import { checkTargetSecrets, targetSpecs } from '../provisioning/targets.js';
import { OutboxDispatcher } from './dispatcher.js';
import { keptChannels, sendersFromEnv } from './senders.js';

/**
 * The `serve` start hook: one dispatcher for the configured message channels, the back-channel
 * logout notices to campus services and, when a provisioning target is configured, the
 * provisioning operations.
 */
export const startOutboxDispatcher: StartHook = async (ctx) => {
  checkTargetSecrets(ctx);
  const senders = sendersFromEnv(ctx);
  const kept = keptChannels(ctx);
  if (kept.length > 0) {
    if (ctx.env.NODE_ENV === 'production') ctx.log.warn({ channels: kept }, 'no transport configured: these messages are not delivered');
    else ctx.log.info({ channels: kept }, 'no transport configured: messages are kept and shown at /dev/outbox');
  }
  const batchHandlers = [backchannelHandler(ctx), ...(targetSpecs(ctx).length > 0 ? [provisioningHandler(ctx)] : [])];
  return new OutboxDispatcher(ctx, { senders, batchHandlers }).start();
};
