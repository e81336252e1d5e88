import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { admin, authorize, browserFor, browserStoppingAt, fillLogin, oauthError, seedPerson, startWorld, type OidcWorld } from './harness.js';

describe('single sign-on: a public client (mobile or single-page app, PKCE without a secret)', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S800001');
  });
  after(() => w.close());

  it('is registered through the API without a secret, signs people in with PKCE, refreshes, and calls from its origin', async () => {
    const meta = (await (await fetch(`${w.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint_auth_methods_supported: string[] };
    assert.ok(meta.token_endpoint_auth_methods_supported.includes('none'));

    const res = await admin(w, 'POST', '/api/v1/admin/services', {
      id: 'campus-app',
      name: 'Campus app',
      redirectUris: [`${w.rp.base}/campus-app/cb`],
      populations: ['student'],
      tokenEndpointAuthMethod: 'none',
    });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { clientId: string; clientSecret?: string };
    assert.equal(created.clientId, 'campus-app');
    assert.equal(created.clientSecret, undefined);

    const config = await client.discovery(new URL(w.issuer), 'campus-app', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const req = await authorize(w, config, 'campus-app', { scope: 'openid profile offline_access', prompt: 'consent' });
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, 'S800001');
    if (!b.stoppedAt) await b.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok(b.stoppedAt, `back at the app: ${b.url}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    assert.equal(tokens.claims()!.aud, 'campus-app');
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).preferred_username, 'S800001');

    // Refresh tokens rotate; the replaced one no longer works.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));

    // A single-page app calls the token endpoint from the origin of its redirect URI; no other origin may.
    const preflight = (origin: string) =>
      fetch(`${w.issuer}/oidc/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    assert.ok((await preflight(w.rp.base)).headers.get('access-control-allow-methods'));
    const call = (origin: string) =>
      fetch(`${w.issuer}/oidc/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: 'campus-app' }).toString(),
      });
    assert.equal((await call(w.rp.base)).headers.get('access-control-allow-origin'), w.rp.base);
    assert.equal((await call('https://elsewhere.example')).headers.get('access-control-allow-origin'), null);
    // A confidential service is called by its server, never from a web page.
    const confidential = await fetch(`${w.issuer}/oidc/token`, {
      method: 'POST',
      headers: { origin: w.rp.base, 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('webmail:x').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'not-a-token' }).toString(),
    });
    assert.equal(confidential.headers.get('access-control-allow-origin'), null);

    // Without a secret it cannot introspect tokens (not even its own).
    const intro = await fetch(`${w.issuer}/oidc/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshed.access_token, client_id: 'campus-app' }).toString(),
    });
    assert.deepEqual(await intro.json(), { active: false });
  });

  it('a confidential service still needs its secret: leaving it out is not public-client authentication', async () => {
    const res = await fetch(`${w.issuer}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'webmail' }).toString(),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  it('a phone app returns by its own scheme (RFC 8252): registered as a public client, it signs people in and refreshes', async () => {
    const APP = 'edu.unidemo.campus:/oauth2redirect';
    const res = await admin(w, 'POST', '/api/v1/admin/services', {
      id: 'campus-phone',
      name: 'Campus phone app',
      redirectUris: [APP, 'http://127.0.0.1/oauth2redirect'],
      populations: ['student'],
      tokenEndpointAuthMethod: 'none',
    });
    assert.equal(res.status, 201, await res.clone().text());
    assert.deepEqual(((await res.json()) as { service: { redirectUris: string[] } }).service.redirectUris, [APP, 'http://127.0.0.1/oauth2redirect']);

    const config = await client.discovery(new URL(w.issuer), 'campus-phone', undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: APP,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'phone-state',
    });
    const b = browserStoppingAt(['edu.unidemo.campus:', 'http://127.0.0.1:51234/']);
    await b.get(url.href);
    await fillLogin(b, 'S800001');
    // Any app may claim a scheme, so the person confirms every sign-in of an app (RFC 8252 §8.6).
    assert.match(b.text(), /Campus phone app asks to use/);
    await b.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok(b.stoppedAt?.startsWith(`${APP}?code=`), `back in the app: ${b.url} ${b.text().slice(0, 300)}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), { pkceCodeVerifier: verifier, expectedState: 'phone-state' });
    assert.equal(tokens.claims()!.aud, 'campus-phone');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);

    // An app on a computer listens on a loopback port of its choosing: any port is the address.
    const loopback = 'http://127.0.0.1:51234/oauth2redirect';
    const v2 = client.randomPKCECodeVerifier();
    b.stoppedAt = null;
    await b.get(client.buildAuthorizationUrl(config, { redirect_uri: loopback, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(v2), code_challenge_method: 'S256', state: 's2' }).href);
    assert.match(b.text(), /asks to use: your identifier/, 'a sign-in asking for the identifier alone names it');
    await b.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok((b.stoppedAt as string | null)?.startsWith(`${loopback}?code=`), `back on the loopback port: ${b.url}`);

    // An app keeps no secret: an app scheme needs a public client; its http addresses are loopback ones.
    const refused = async (body: Record<string, unknown>, field: string, code = 'field.invalid') => {
      const r = await admin(w, 'POST', '/api/v1/admin/services', { id: 'phone-x', name: 'X', populations: ['student'], ...body });
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.equal(((await r.json()) as { error: { fields: Record<string, string> } }).error.fields[field], code, JSON.stringify(body));
    };
    await refused({ redirectUris: [APP] }, 'tokenEndpointAuthMethod', 'field.required');
    await refused({ redirectUris: [APP], tokenEndpointAuthMethod: 'client_secret_basic' }, 'tokenEndpointAuthMethod');
    await refused({ redirectUris: [APP, 'http://app.example.org/cb'], tokenEndpointAuthMethod: 'none' }, 'redirectUris');
    await refused({ redirectUris: ['campus:/cb'], tokenEndpointAuthMethod: 'none' }, 'redirectUris');
    await refused({ redirectUris: ['javascript:alert(1)'], tokenEndpointAuthMethod: 'none' }, 'redirectUris');
  });
});
