import type { AppContext } from '../app/context.js';

/**
 * Links `ctx.kickOutbox()` to the dispatchers running in this process. The composition root
 * wires `kickOutbox` to `wakeOutbox(ctx)`; a dispatcher subscribes when it starts. Other
 * instances find the rows on their next poll.
 */
const listeners = new WeakMap<AppContext, Set<() => void>>();

export function onOutboxKick(ctx: AppContext, fn: () => void): () => void {
  let set = listeners.get(ctx);
  if (!set) listeners.set(ctx, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

export function wakeOutbox(ctx: AppContext): void {
  for (const fn of listeners.get(ctx) ?? []) fn();
}
