import type { FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { ClaimsParameterMember, Client, Grant } from 'oidc-provider';
import type { AppContext } from '../app/context.js';
import { loadOidcAccount } from './claims.js';
import { admits } from './services.js';

/** Claims a request's `claims` parameter may always ask for, granted or not (as oidc-provider's filter). */
const ALWAYS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

type Requested = Record<string, ClaimsParameterMember | null>;

/** The provider's claim mask (the class its userinfo endpoint uses; public, though not typed). */
interface ClaimsMask {
  scope(scope: string): void;
  mask(claims: Requested): void;
  rejected(claims: string[]): void;
  result(): Promise<Record<string, unknown>>;
}
type WithClaims = Provider & { Claims: new (available: Record<string, unknown>, opts: { client: Client }) => ClaimsMask };

/** A Bearer token of the token68 syntax (RFC 6750 §2.1), the only form the fast path takes. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * The userinfo answer for the plain case, computed with the provider's own models without going
 * through its Koa pipeline (which costs about twice the rest of the request): a GET with the access
 * token in the Authorization header, no query, no CORS origin, no DPoP proof, for a service that
 * takes its claims as plain JSON. The token, its grant, its service and the account are loaded and
 * checked as the provider's userinfo endpoint checks them, and the claims are masked with the
 * provider's `Claims`. Anything else, and every failure (a missing, expired or revoked token, a
 * suspended account), returns undefined: the provider then answers the request itself, with its
 * error and WWW-Authenticate header.
 */
export async function plainUserinfo(ctx: AppContext, provider: Provider, req: FastifyRequest): Promise<Record<string, unknown> | undefined> {
  const { headers } = req;
  if (req.method !== 'GET' || req.raw.url?.includes('?') || headers.origin !== undefined || headers.dpop !== undefined) return undefined;
  const value = typeof headers.authorization === 'string' ? BEARER.exec(headers.authorization)?.[1] : undefined;
  if (!value) return undefined;
  const token = await provider.AccessToken.find(value);
  if (!token || !token.scopes.has('openid') || token['x5t#S256'] || token.jkt || token.aud !== undefined) return undefined;
  if (!token.accountId || !token.clientId || !token.grantId) return undefined;
  const [client, found, grant] = await Promise.all([
    provider.Client.find(token.clientId),
    loadOidcAccount(ctx, token.accountId),
    provider.Grant.find(token.grantId, { ignoreExpiration: true }),
  ]);
  if (!client || client.userinfoSignedResponseAlg || client.userinfoEncryptedResponseAlg) return undefined;
  // A person the service no longer admits (see findOidcAccount): the provider answers, refusing.
  if (!found || !admits(client, found.population)) return undefined;
  const { account } = found;
  if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== token.accountId) return undefined;

  // What the token's `claims` parameter asked for userinfo, less what the grant does not hold.
  const requested: Requested = { ...token.claims?.userinfo };
  const names = Object.keys(requested);
  const granted = new Set(grant.getOIDCClaimsFiltered(new Set(names)));
  for (const name of names) if (!ALWAYS.has(name) && !granted.has(name)) delete requested[name];
  const rejected = (grant as Grant & { getRejectedOIDCClaims(): string[] }).getRejectedOIDCClaims();
  const scope = grant.getOIDCScopeFiltered(new Set((token.scope ?? '').split(' ')));
  const mask = new (provider as WithClaims).Claims(await account.claims('userinfo', scope, requested, rejected), { client });
  mask.scope(scope);
  mask.mask(requested);
  mask.rejected(rejected);
  return mask.result();
}
