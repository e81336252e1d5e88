import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createContext } from '../../src/app/container.js';
import { buildServer } from '../../src/app/server.js';
import { backchannelHandler } from '../../src/oidc/backchannel-delivery.js';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.js';
import { ADMIN_TOKEN, makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { seedAccount } from '../helpers/fixtures.js';
import { HttpBrowser } from '../helpers/http-browser.js';

export const PASSWORD = 'Correct-Horse-42';
export const SECRET = 'webmail-secret-0123456789abcdef';
export const LIB_SECRET = 'library-secret-0123456789abcdef';

/**
 * A relying party's own server on loopback: publishes its JWKS (private_key_jwt) and records
 * back-channel logout tokens. Its callback paths are never fetched: the browser stops there.
 */
export async function startRpServer() {
  const pair = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = { ...(await webcrypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'rp-1', alg: 'ES256', use: 'sig' };
  const logoutTokens: string[] = [];
  /** What the back-channel logout endpoint answers (a test sets 503 to see the notices retried). */
  const backchannel = { status: 200 };
  /** Answers posted to a callback (response_mode=form_post), as form bodies. */
  const posted: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/cb')) {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posted.push(new URLSearchParams(body));
        res.setHeader('content-type', 'text/plain');
        res.end('relying party');
      });
      return;
    }
    if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (req.url === '/backchannel' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        res.statusCode = backchannel.status;
        if (token && backchannel.status === 200) logoutTokens.push(token);
        res.end();
      });
      return;
    }
    // The service's own pages (callback, after logout): a plain page, for real browsers.
    res.statusCode = req.method === 'GET' ? 200 : 404;
    res.setHeader('content-type', 'text/plain');
    res.end('relying party');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, privateKey: pair.privateKey, logoutTokens, backchannel, posted, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export type RpServer = Awaited<ReturnType<typeof startRpServer>>;

export interface OidcWorld {
  t: TestApp;
  issuer: string;
  rp: RpServer;
  close(): Promise<void>;
}

/** Tessera listening on 127.0.0.1:0 with PUBLIC_URL set to that address, and three campus services. */
export async function startWorld(): Promise<OidcWorld> {
  const rp = await startRpServer();
  const config = testConfig((c) => {
    c.services = [
      {
        id: 'webmail',
        name: { en: 'Webmail', it: 'Posta', el: 'Αλληλογραφία' },
        protocol: 'oidc',
        redirectUris: [`${rp.base}/webmail/cb`],
        postLogoutRedirectUris: [`${rp.base}/webmail/bye`],
        populations: ['student', 'staff'],
        clientSecret: SECRET,
        firstParty: true,
        tokenEndpointAuthMethod: 'client_secret_basic',
        backchannelLogoutUri: `${rp.base}/backchannel`,
      },
      {
        id: 'library',
        name: 'Library',
        protocol: 'oidc',
        redirectUris: [`${rp.base}/library/cb`],
        postLogoutRedirectUris: [],
        populations: ['student', 'external'],
        clientSecret: LIB_SECRET,
        firstParty: false,
        tokenEndpointAuthMethod: 'client_secret_basic',
      },
      {
        id: 'documents',
        name: 'Documents',
        protocol: 'oidc',
        redirectUris: [`${rp.base}/documents/cb`],
        postLogoutRedirectUris: [],
        populations: ['student', 'staff', 'external'],
        firstParty: true,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: `${rp.base}/jwks`,
      },
    ];
  });
  const t = await makeApp({ config });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const issuer = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  // The provider is built on first use, so it takes this address as its issuer.
  t.ctx.env.PUBLIC_URL = issuer;
  return {
    t,
    issuer,
    rp,
    close: async () => {
      // Keep-alive connections of the relying party's fetch would hold the close up.
      t.app.server.closeAllConnections();
      await t.close();
      await rp.close();
    },
  };
}

/**
 * Another Tessera instance on the same database, as behind a balancer: its own process state
 * (its own provider, built on first use), the same PUBLIC_URL, listening on a port of its own.
 */
export async function secondInstance(w: OidcWorld): Promise<{ base: string; close(): Promise<void> }> {
  const ctx = await createContext({ env: w.t.ctx.env, config: w.t.ctx.config, db: w.t.ctx.db, clock: w.t.clock, migrate: false, logLevel: 'silent' });
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

export async function seedPerson(w: OidcWorld, externalId: string, population = 'student', extra: { role?: string } = {}) {
  return seedAccount(w.t.ctx, {
    externalId,
    population,
    status: 'active',
    password: PASSWORD,
    email: `${externalId}@studenti.unidemo.example.org`,
    givenName: 'Maria',
    familyName: 'Rossi',
    ...(extra.role ? { contractType: null } : {}),
  });
}

/** openid-client's view of the provider for one service. */
export async function rpConfig(w: OidcWorld, id: 'webmail' | 'library' | 'documents', secret?: string) {
  const auth =
    id === 'documents' ? client.PrivateKeyJwt({ key: w.rp.privateKey, kid: 'rp-1' }, { [client.modifyAssertion]: (h) => void (h.kid = 'rp-1') }) : client.ClientSecretBasic(secret ?? (id === 'webmail' ? SECRET : LIB_SECRET));
  return client.discovery(new URL(w.issuer), id, undefined, auth, { execute: [client.allowInsecureRequests] });
}

/** Starts an authorization request with PKCE, state and nonce. */
export async function authorize(w: OidcWorld, config: client.Configuration, id: string, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const redirectUri = `${w.rp.base}/${id}/cb`;
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email institution',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  return { url: url.href, verifier, nonce, state, redirectUri };
}

/** Matches an OAuth error response with this `error` code (for assert.rejects). */
export const oauthError = (code: string) => (e: unknown) => {
  const err = e as { error?: string; cause?: unknown };
  // A 401 answers with a WWW-Authenticate challenge carrying the error instead of a body.
  const challenges = Array.isArray(err.cause) ? (err.cause as Array<{ parameters?: { error?: string } }>) : [];
  return err.error === code || challenges.some((c) => c.parameters?.error === code);
};

export const browserFor = (w: OidcWorld, lang = 'en') => new HttpBrowser([w.rp.base], lang);

/** A browser stopping at other addresses than the relying party's (an app's scheme, a loopback port). */
export const browserStoppingAt = (stopAt: string[], lang = 'en') => new HttpBrowser(stopAt, lang);

/** Signs in through the real login form the browser is on. */
export async function fillLogin(b: HttpBrowser, username: string, password = PASSWORD) {
  if (!/\/flows\/login\//.test(b.url)) throw new Error(`not on the login page: ${b.url} ${b.status} ${b.text().slice(0, 400)}`);
  await b.submit({ username, password }, { action: 'submit' });
  return b;
}

/** A call of the administration API (JSON body, Italian asked for the messages). */
export const admin = (w: OidcWorld, method: string, path: string, body?: unknown) =>
  fetch(`${w.issuer}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), 'accept-language': 'it' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

/** A code flow to a service through the browser (signing in on the login page if asked), and its tokens. */
export async function signIn(w: OidcWorld, config: client.Configuration, id: string, username: string, b = browserFor(w)) {
  const req = await authorize(w, config, id);
  await b.get(req.url);
  if (/\/flows\/login\//.test(b.url)) await fillLogin(b, username);
  assert.ok(b.stoppedAt, `signed in: ${b.url} ${b.text().slice(0, 200)}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
    pkceCodeVerifier: req.verifier,
    expectedNonce: req.nonce,
    expectedState: req.state,
  });
  return { tokens, b };
}

/** A raw call of the token endpoint as webmail (client_secret_basic), for tests that race or replay it. */
export const webmailToken = (w: OidcWorld, body: Record<string, string>) =>
  fetch(`${w.issuer}/oidc/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`webmail:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });

/** A browser signed in to Tessera and to webmail through it (offline_access), and webmail's code. */
export async function webmailCode(w: OidcWorld, username: string) {
  const config = await rpConfig(w, 'webmail');
  const req = await authorize(w, config, 'webmail', { scope: 'openid offline_access', prompt: 'consent' });
  const b = browserFor(w);
  await b.get(req.url);
  await fillLogin(b, username);
  if (!b.stoppedAt) await b.submit({}, { action: 'allow', formAction: /confirm/ });
  if (!b.stoppedAt) throw new Error(`not back at the service: ${b.url}`);
  return { browser: b, code: new URL(b.stoppedAt).searchParams.get('code')!, verifier: req.verifier, redirectUri: req.redirectUri };
}

/** Delivers the back-channel logout notices waiting in the outbox, as a running instance would. */
export const deliverLogoutNotices = (w: OidcWorld) => new OutboxDispatcher(w.t.ctx, { senders: [], batchHandlers: [backchannelHandler(w.t.ctx)] }).drain();

/**
 * A logout token as a service checks it (Back-Channel Logout 1.0 §2.6): signed with a key of
 * Tessera's JWKS, for this service, with the logout event, a `sid` and no nonce. Its claims.
 */
export async function verifyLogoutToken(w: OidcWorld, token: string, clientId: string) {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${w.issuer}/oidc/jwks`)), { issuer: w.issuer, audience: clientId, typ: 'logout+jwt', maxTokenAge: '2 minutes' });
  assert.ok((payload.events as Record<string, unknown> | undefined)?.['http://schemas.openid.net/event/backchannel-logout'], 'the logout event');
  assert.equal(payload.nonce, undefined);
  assert.equal(typeof payload.sid, 'string');
  return payload as { sub: string; sid: string; jti: string };
}
