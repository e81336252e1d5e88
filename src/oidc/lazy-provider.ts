import type Provider from 'oidc-provider';
import type { AppContext } from '../app/context.js';

type ProviderModule = typeof import('./provider.js');
let providerModule: Promise<ProviderModule> | undefined;

/**
 * The OpenID Connect provider, loaded on the first request that needs it: oidc-provider and its
 * dependencies cost about 40 MB of memory, which an instance that serves no single sign-on
 * (or has not yet) does not pay. The module is imported once: a dynamic `import()` is resolved
 * anew on every call (through the module loader's hooks), which would cost every request.
 */
export async function lazyProvider(ctx: AppContext): Promise<Provider> {
  providerModule ??= import('./provider.js').catch((err: unknown) => {
    providerModule = undefined;
    throw err;
  });
  return (await providerModule).providerFor(ctx);
}

// Kept here, not in provider.ts, so that mounting the routes does not load oidc-provider.
/** The provider's endpoints, all under /oidc except discovery (/.well-known/openid-configuration). */
export const oidcRoutes = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  userinfo: '/oidc/me',
  jwks: '/oidc/jwks',
  end_session: '/oidc/session/end',
  revocation: '/oidc/token/revocation',
  introspection: '/oidc/token/introspection',
  registration: '/oidc/reg',
  pushed_authorization_request: '/oidc/request',
  code_verification: '/oidc/device',
  device_authorization: '/oidc/device/auth',
  backchannel_authentication: '/oidc/backchannel',
} as const;

export const interactionPath = (uid: string) => `/oidc/interaction/${uid}`;
