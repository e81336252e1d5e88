import type Provider from 'oidc-provider';
import type { AppContext } from '../app/context.js';

/**
 * The OpenID Connect provider, loaded on the first request that needs it: oidc-provider and its
 * dependencies cost about 40 MB of memory, which an instance that serves no single sign-on
 * (or has not yet) does not pay.
 */
export async function lazyProvider(ctx: AppContext): Promise<Provider> {
  const { providerFor } = await import('./provider.js');
  return providerFor(ctx);
}

export const interactionPath = (uid: string) => `/oidc/interaction/${uid}`;
