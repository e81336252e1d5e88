import type { StartHook } from '../app/start-hooks.js';
import { OutboxDispatcher } from './dispatcher.js';
import { keptChannels, sendersFromEnv } from './senders.js';

/** The `serve` start hook: runs the dispatcher for the configured channels. */
export const startOutboxDispatcher: StartHook = async (ctx) => {
  const senders = sendersFromEnv(ctx);
  const kept = keptChannels(ctx);
  if (kept.length > 0) {
    if (ctx.env.NODE_ENV === 'production') ctx.log.warn({ channels: kept }, 'no transport configured: these messages are not delivered');
    else ctx.log.info({ channels: kept }, 'no transport configured: messages are kept and shown at /dev/outbox');
  }
  if (senders.length === 0) return;
  const dispatcher = new OutboxDispatcher(ctx, { senders });
  return dispatcher.start();
};
