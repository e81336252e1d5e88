import type { AppContext } from '../app/context.js';
import type { SpidRuntime } from './runtime.js';

/**
 * The SPID set-up of each running context, apart from the code that builds it: pages that only
 * ask "is SPID on, and with which identity providers?" (the login button) load no SAML library.
 */
const runtimes = new WeakMap<AppContext, SpidRuntime>();

export const spidRuntimeOf = (ctx: AppContext): SpidRuntime | null => runtimes.get(ctx) ?? null;
export const setSpidRuntime = (ctx: AppContext, rt: SpidRuntime): void => {
  runtimes.set(ctx, rt);
};

/** Whether the context configures SPID (the institution's `spid:` section, or SPID_IDP_METADATA outside production). */
export const spidConfigured = (ctx: AppContext): boolean =>
  ctx.config.spid !== undefined || (ctx.env.SPID_IDP_METADATA !== undefined && ctx.env.NODE_ENV !== 'production');

/**
 * Registers the SPID routes only when SPID is configured, loading the SAML stack (node-saml,
 * xml-crypto, certificate generation) only then.
 */
export async function registerSpid(app: import('fastify').FastifyInstance, ctx: AppContext): Promise<void> {
  if (!spidConfigured(ctx)) {
    if (ctx.env.SPID_IDP_METADATA && ctx.env.NODE_ENV === 'production') ctx.log.warn('spid: SPID_IDP_METADATA is for testing and development and is ignored in production');
    return;
  }
  const { registerSpidRoutes } = await import('./routes.js');
  await registerSpidRoutes(app, ctx);
}
