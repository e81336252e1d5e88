// Tessera's OpenID Connect provider is oidc-provider 8.x: the 9.x line declares Node.js 22 LTS as
// its minimum (it warns "Unsupported runtime" on Node 20), and Tessera supports Node 20.19+.
// 8.8 is the newest release that supports Node 20.
import { interactionPath, oidcRoutes } from './lazy-provider.js';
import Provider, { errors, interactionPolicy, type AccessToken, type ClientCredentials, type Configuration, type KoaContextWithOIDC, type RefreshToken } from 'oidc-provider';
import type { AppContext } from '../app/context.js';
import { resolveSession, SESSION_COOKIE, sessionIdOfToken } from '../sessions/sessions.js';
import { recordDailyUse } from '../accounts/use.js';
import { audit } from '../audit/audit.js';
import { KyselyAdapter } from './adapter.js';
import { locales } from '../i18n/index.js';
import { consentOf } from './consents.js';
import { findOidcAccount, populationOf, scopeClaims, sessionAccount, type SessionAccount } from './claims.js';
import { keySetVersion, loadSigningKeys } from './keys.js';
import { logoutSource, postLogoutSuccessSource, providerPages, renderFormPost, renderProviderError } from './provider-pages.js';
import { admits, clientMetadataOf, findConfigService, ServiceClientAdapter } from './services.js';
import { isAppRedirect } from '../config/institution-schema.js';

export { oidcRoutes };


/**
 * The login prompt asks again when the Tessera session behind the provider's session has ended
 * (sign-out, password change, suspension) or belongs to someone else, and when the person's
 * population may not use the service (the interaction then shows why). The session is checked
 * in the database on every authorization, so no instance trusts a session another has ended.
 */
function policy(ctx: AppContext) {
  // Both checks need the Tessera session's account: one query per authorization request.
  const looked = new WeakMap<KoaContextWithOIDC, Promise<SessionAccount | null>>();
  const lookup = (k: KoaContextWithOIDC) => {
    let p = looked.get(k);
    if (!p) {
      const token = k.cookies.get(SESSION_COOKIE, { signed: false });
      p = token ? sessionAccount(ctx, token) : Promise.resolve(null);
      looked.set(k, p);
    }
    return p;
  };
  const base = interactionPolicy.base();
  const login = base.get('login')!;
  login.checks.add(
    new interactionPolicy.Check('tessera_session', 'the Tessera session has ended or belongs to another account', async (k: KoaContextWithOIDC) => {
      const s = await lookup(k);
      return !s?.active || s.accountId !== k.oidc.session?.accountId;
    }),
  );
  login.checks.add(
    new interactionPolicy.Check('population_not_admitted', 'the service does not admit the population of this account', async (k: KoaContextWithOIDC) => {
      const accountId = k.oidc.session?.accountId;
      if (!accountId) return false;
      const s = await lookup(k);
      const admitted = admits(k.oidc.client, s?.accountId === accountId ? s.population : await populationOf(ctx, accountId));
      // Without an interaction (prompt=none) the service gets the refusal itself, as it would
      // from the refusal page's link: access_denied, not interaction_required.
      if (!admitted && k.oidc.prompts.has('none')) throw new errors.AccessDenied('access.service_not_available');
      return !admitted;
    }),
  );
  return base;
}

/**
 * prompt=none from someone signed in to Tessera (on the portal, or through a service in another
 * browser session of the provider that has ended) whose browser holds no provider session: they
 * are authenticated, so the Tessera session answers the login prompt without a page, as the
 * interaction does when a page is allowed (and the service gets a code, not login_required). Only
 * an empty provider session is filled (another person's is the interaction's to end); max_age,
 * id_token_hint, the population and consent are then checked against it as for any session.
 * oidc-provider 8.8 has no hook between loading its session and the account but the validators
 * of extra parameters, which it runs there on every authorization request: this is registered as
 * the validator of a parameter of Tessera's own, which no service sends.
 */
async function silentSignIn(ctx: AppContext, k: KoaContextWithOIDC): Promise<void> {
  if (k.oidc.route !== 'authorization' || !k.oidc.prompts.has('none') || !k.oidc.session || k.oidc.session.accountId) return;
  const token = k.cookies.get(SESSION_COOKIE, { signed: false });
  const s = token ? await sessionAccount(ctx, token) : null;
  if (!s?.active) return;
  // auth_time is when the password was typed (the Tessera session began), not now.
  const age = Math.max(0, ctx.clock.now().getTime() - s.authenticatedAt.getTime());
  k.oidc.session.loginAccount({ accountId: s.accountId, loginTs: Math.floor((Date.now() - age) / 1000), amr: ['pwd'] });
  await audit(ctx.db.kysely, ctx.clock.now(), {
    actor: `account:${s.accountId}`,
    action: 'sso.login',
    accountId: s.accountId,
    ip: k.ip,
    details: { service: k.oidc.client?.clientId ?? null },
  });
}

/**
 * The grant an authorization starts from. First-party services get every scope they ask for,
 * without a consent screen, also when they ask for more than the session's grant holds. Other
 * services start from what the person allowed them before (remembered across sign-ins, see
 * consents.ts): the consent screen shows only what was never allowed.
 */
async function loadExistingGrant(ctx: AppContext, k: KoaContextWithOIDC) {
  const { client, session } = k.oidc;
  const grantId = k.oidc.result?.consent?.grantId || (client && session?.grantIdFor(client.clientId));
  let grant = grantId ? await k.oidc.provider.Grant.find(grantId) : undefined;
  if (!client || !session?.accountId || (grant && grant.accountId !== session.accountId)) return grant;
  const requested = [...k.oidc.requestParamScopes];
  const requestedClaims = [...k.oidc.requestParamClaims];
  // A grant that already holds what is asked (single sign-on, most of the time) needs nothing more.
  if (grant) {
    const held = new Set((grant.getOIDCScope() || '').split(' '));
    const heldClaims = new Set(grant.getOIDCClaims());
    if (requested.every((s) => held.has(s)) && requestedClaims.every((c) => heldClaims.has(c))) return grant;
  }
  const firstParty = client['tessera_first_party'] === true;
  const consent = firstParty ? null : await consentOf(ctx.db.kysely, session.accountId, client.clientId);
  if (!firstParty && !consent) return grant;
  const scopes = requested.filter((s) => firstParty || consent!.scopes.includes(s));
  const claims = requestedClaims.filter((c) => firstParty || consent!.claims.includes(c));
  if (scopes.length === 0 && claims.length === 0 && grant) return grant;
  grant ??= new k.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

/**
 * Whether the person of a token (an access or refresh token being introspected) is still one the
 * service it was issued to admits, whoever asks about it: the check of refresh and userinfo
 * (findOidcAccount: an active account of a population the service admits), one read of the
 * account. A token without a person (none is issued today) has nobody to check.
 */
export async function tokenStillAdmitted(ctx: AppContext, k: KoaContextWithOIDC, token: AccessToken | RefreshToken | ClientCredentials): Promise<boolean> {
  const accountId = 'accountId' in token ? token.accountId : undefined;
  if (!accountId) return true;
  const asking = k.oidc.client;
  const service = asking?.clientId === token.clientId ? asking : token.clientId ? await k.oidc.provider.Client.find(token.clientId) : undefined;
  return service !== undefined && (await findOidcAccount(ctx, accountId, service)) !== undefined;
}

function configuration(ctx: AppContext, keys: object[]): Configuration {
  const secure = ctx.env.PUBLIC_URL.startsWith('https://');
  // SameSite=Lax: the code flow returns by top-level GET navigations; Lax also survives plain
  // HTTP on loopback, where browsers drop SameSite=None cookies.
  const cookie = { httpOnly: true, sameSite: 'lax' as const, signed: true, secure };
  return {
    adapter: (name: string) => (name === 'Client' ? new ServiceClientAdapter(ctx) : new KyselyAdapter(ctx, name)),
    // Services of the institution's file are static clients (checked once, no lookup per
    // request); those registered through the API are read by the Client adapter on every use.
    clients: ctx.config.services
      .filter((s) => s.protocol === 'oidc')
      .map((s) => clientMetadataOf(findConfigService(ctx, s.id)!, s.clientSecret ?? null)),
    jwks: { keys: keys as never },
    cookies: {
      keys: [ctx.secrets.key('oidc-cookies').toString('base64url')],
      names: { session: 'tessera_oidc', interaction: 'tessera_oidc_interaction', resume: 'tessera_oidc_resume' },
      long: cookie,
      short: cookie,
    },
    claims: scopeClaims,
    scopes: ['openid', 'offline_access', 'profile', 'email', 'institution'],
    // The languages of the pages a service may ask for with `ui_locales`.
    discovery: { ui_locales_supported: [...locales] },
    // At the token and userinfo endpoints the service asking must still admit the person's
    // population (it may have changed since the grant); at the authorization
    // endpoint the interaction's check answers instead, with the refusal page.
    findAccount: (k, sub) => findOidcAccount(ctx, sub, k.oidc.route === 'token' || k.oidc.route === 'userinfo' ? k.oidc.client : undefined),
    interactions: { url: (_k, interaction) => interactionPath(interaction.uid), policy: policy(ctx) },
    extraParams: { tessera_silent_sign_in: (k) => silentSignIn(ctx, k) },
    routes: oidcRoutes,
    responseTypes: ['code'],
    pkce: { required: () => true, methods: ['S256'] },
    // `none`: public clients (mobile and single-page apps), which PKCE protects.
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
    // A single-page app (a public client) calls the token, userinfo and revocation endpoints from
    // the origin of its redirect URIs; a web page may not call them for any other service.
    clientBasedCORS: (_k, origin, client) => client.clientAuthMethod === 'none' && (client.redirectUris ?? []).some((u) => !isAppRedirect(u) && new URL(u).origin === origin),
    extraClientMetadata: { properties: ['tessera_populations', 'tessera_first_party'] },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      // A service may introspect only the tokens issued to it, and only one that authenticates. A
      // token of a person its service no longer admits (another population, an account no longer
      // active) is `active: false` at once, as refresh and userinfo refuse it.
      introspection: {
        enabled: true,
        allowedPolicy: async (k, client, token) => client.clientAuthMethod !== 'none' && token.clientId === client.clientId && (await tokenStillAdmitted(ctx, k, token)),
      },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (k, form) => logoutSource(ctx, k, form),
        postLogoutSuccessSource: (k) => postLogoutSuccessSource(ctx, k),
      },
    },
    renderError: (k, out, error) => renderProviderError(ctx, k, out, error),
    loadExistingGrant: (k) => loadExistingGrant(ctx, k),
    // Every service may refresh; every refresh gives a new refresh token (the old one stops).
    issueRefreshToken: async (_k, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // Tokens are not tied to the browser session (that would cost a session lookup on every
    // userinfo call). Signing out revokes the grants of the session's services instead (see
    // `revokeOnLogout`), and revokeOidcForAccount removes everything when the account's access ends.
    expiresWithSession: async () => false,
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: 3600,
      Interaction: 1800,
      Grant: 14 * 86_400,
      Session: Math.round(ctx.config.login.sessionHours * 3600),
      RefreshToken: 14 * 86_400,
      BackchannelAuthenticationRequest: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
    },
  };
}

type ResponseMode = (k: KoaContextWithOIDC, redirectUri: string, out: Record<string, unknown>) => Promise<void> | void;

declare module 'oidc-provider' {
  interface Provider {
    registerResponseMode(name: string, handler: ResponseMode): void;
  }
}

/**
 * The provider, with Tessera's page for the `form_post` response mode. oidc-provider 8.8 has no
 * setting for that page: it registers its response modes while it is constructed, each only if
 * none is registered under that name, through `registerResponseMode`, which this class answers
 * with Tessera's page for `form_post`.
 */
function tesseraProvider(ctx: AppContext) {
  return class TesseraProvider extends Provider {
    override registerResponseMode(name: string, handler: ResponseMode): void {
      super.registerResponseMode(name, name === 'form_post' ? (k, redirectUri, out) => renderFormPost(ctx, k, redirectUri, out) : handler);
    }
  };
}

async function build(ctx: AppContext): Promise<Provider> {
  const TesseraProvider = tesseraProvider(ctx);
  const provider = new TesseraProvider(ctx.env.PUBLIC_URL, configuration(ctx, await loadSigningKeys(ctx)));
  // The forwarded headers it reads are set by Tessera itself from PUBLIC_URL (mount.ts publicRequest).
  provider.proxy = true;
  provider.use(formPostPolicy);
  provider.use(recordRefreshUse(ctx));
  provider.use(providerPages(ctx));
  provider.on('authorization.success', revokeOnLogout);
  provider.on('end_session.success', (k: KoaContextWithOIDC) => endTesseraSession(ctx, k));
  provider.on('server_error', (_k: unknown, err: Error) => ctx.log.error({ err }, 'oidc provider error'));
  return provider;
}

/**
 * A service refreshing its tokens is the person using their account without signing in (an app
 * that keeps them signed in): recorded once a day per account (recordDailyUse), so that
 * purge-unused does not cancel an account in use. Once the provider has made its answer (before it
 * is sent): a failure to record is logged, never turned into an error for a refresh that has
 * already rotated the token.
 */
function recordRefreshUse(ctx: AppContext) {
  return async (k: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    if (k.oidc?.route !== 'token' || k.status !== 200 || k.oidc.params?.grant_type !== 'refresh_token') return;
    const accountId = k.oidc.entities.Account?.accountId;
    if (!accountId) return;
    try {
      await recordDailyUse(ctx, accountId, 'oidc.token_refreshed', { service: k.oidc.client?.clientId ?? null }, { ip: k.ip });
    } catch (err) {
      ctx.log.warn({ err }, 'a refresh of a service could not be recorded as use of the account');
    }
  };
}

/**
 * The `form_post` response mode under Tessera's Content-Security-Policy. Its page (renderFormPost)
 * posts the answer to the service with one inline script, whose hash it adds to the policy's
 * `script-src`: authorization answers get `script-src 'self'` (Tessera serves no script files),
 * and a form_post answer also lets its form post to the service's redirect URI (registered, and
 * checked by the provider before it answers there).
 */
async function formPostPolicy(k: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  const authorization = k.path === oidcRoutes.authorization || k.path.startsWith(`${oidcRoutes.authorization}/`);
  if (authorization) {
    const csp = k.response.get('content-security-policy');
    if (typeof csp === 'string' && csp && !/(^|;)\s*script-src\s/.test(csp)) k.set('content-security-policy', `${csp};script-src 'self'`);
  }
  await next();
  const params = k.oidc?.params;
  if (!authorization || params?.response_mode !== 'form_post' || typeof params.redirect_uri !== 'string' || !String(k.type).includes('html')) return;
  const target = new URL(params.redirect_uri).origin;
  const csp = String(k.response.get('content-security-policy') ?? '');
  k.set('content-security-policy', csp.replace(/form-action 'self'/, `form-action 'self' ${target}`));
}

/**
 * Tokens not bound to the session make oidc-provider mark each service's authorization in the
 * session as surviving a sign-out (`persistsLogout`), so signing out would leave the services'
 * access and refresh tokens working. At Tessera signing out ends them all, `offline_access`
 * included (its consent text says "until you sign out"): with the flag cleared, the provider's
 * own end-session step revokes each grant with its codes and tokens. The flag is set before the
 * session is saved at the end of the authorization request.
 */
function revokeOnLogout(k: KoaContextWithOIDC): void {
  const { client, session } = k.oidc;
  const authorization = client && session?.authorizationFor(client.clientId);
  if (!authorization) return;
  authorization.persistsLogout = false;
  // The Tessera session this grant was made under: signing out of Tessera ends it too
  // (revokeOidcForSession). Its id, a hash of the cookie, never the cookie itself.
  const tessera = sessionIdOfToken(k.cookies.get(SESSION_COOKIE, { signed: false }));
  if (tessera) (authorization as { tessera?: string }).tessera = tessera;
}

/**
 * Signing out of a service at Tessera (RP-initiated logout) also ends the Tessera session: the
 * next sign-in to any service asks for the password again.
 */
function endTesseraSession(ctx: AppContext, k: KoaContextWithOIDC): void {
  // "No, stay signed in" signs out of the one service only.
  if (!k.oidc.params?.logout) return;
  // The provider ending its own session because another person has just signed in at Tessera
  // in this browser (it then resumes the authorization): that new Tessera session stays.
  const then = k.oidc.session?.state?.postLogoutRedirectUri;
  if (typeof then === 'string' && then.startsWith(`${ctx.env.PUBLIC_URL}${oidcRoutes.authorization}/`)) return;
  const token = k.cookies.get(SESSION_COOKIE, { signed: false });
  k.cookies.set(SESSION_COOKIE, null, { signed: false, path: '/' });
  if (!token) return;
  void resolveSession(ctx.db.kysely, token, ctx.clock.now())
    .then((s) => s && ctx.db.kysely.updateTable('sessions').set({ revoked_at: ctx.clock.now().toISOString() }).where('id', '=', s.sessionId).execute())
    .catch((err: unknown) => ctx.log.error({ err }, 'ending the Tessera session after an OIDC logout failed'));
}

interface Holder {
  provider: Promise<Provider>;
  version: string;
  checkedAt: number;
}
const holders = new WeakMap<AppContext, Holder>();
const KEY_CHECK_MS = 60_000;

/**
 * The provider of this Tessera, built on first use (so PUBLIC_URL and the signing keys are read
 * then). A key rotation done by another process is noticed within a minute and a provider with
 * the new keys replaces this one; its state is all in the database, so nothing is lost.
 */
export async function providerFor(ctx: AppContext): Promise<Provider> {
  let h = holders.get(ctx);
  if (!h) {
    // The key set's fingerprint is read before the keys are loaded: a change in between is seen
    // as a change at the next check (read after, it would hide it until the next change).
    const version = keySetVersion(ctx);
    const provider = version.then(() => build(ctx));
    h = { provider, version: '', checkedAt: Date.now() };
    holders.set(ctx, h);
    const held = h;
    // On a first start the set was empty: the keys the build generated (under a lock, so the same
    // for every instance) are the set it was built with.
    provider.then(async () => (held.version = (await version) || (await keySetVersion(ctx)))).catch(() => holders.delete(ctx));
    return provider;
  }
  if (Date.now() - h.checkedAt > KEY_CHECK_MS) {
    h.checkedAt = Date.now();
    const v = await keySetVersion(ctx);
    if (h.version && v !== h.version) {
      h.version = v;
      h.provider = build(ctx);
    }
  }
  return h.provider;
}

/** Forces the next request to rebuild the provider (after a rotation in this process). */
export function forgetProvider(ctx: AppContext): void {
  holders.delete(ctx);
}
