import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { oauthError, authorize, browserFor, fillLogin, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

describe('single sign-on: authorization code flow end to end', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S100001');
  });
  after(() => w.close());

  it('discovery → PKCE → login form → code → tokens → userinfo → refresh with rotation → logout', async () => {
    const config = await rpConfig(w, 'webmail');
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, w.issuer);
    assert.equal(meta.authorization_endpoint, `${w.issuer}/oidc/auth`);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
    assert.ok(meta.scopes_supported?.includes('institution'));
    assert.ok(meta.backchannel_logout_supported);

    const req = await authorize(w, config, 'webmail');
    const b = browserFor(w);
    await b.get(req.url);
    assert.match(b.url, /\/flows\/login\//, 'the login step is Tessera\'s own login page');
    assert.deepEqual(
      b.visited.map((v) => v.replace(/\?.*$/, '').replace(/\/[A-Za-z0-9_-]{16,}/g, '/:id')),
      ['GET /oidc/auth', 'GET /oidc/interaction/:id', 'GET /flows/login/:id'],
      'from the service to the login page in two redirects',
    );
    assert.match(b.text(), /Sign in to continue to Webmail\./, 'the login page names the service');
    await fillLogin(b, 'S100001');
    assert.ok(b.stoppedAt, `the browser came back to the service: ${b.url} ${b.text().slice(0, 300)}`);
    // After a form post the browser moves on by a meta refresh, never by a redirect chain leaving the site.
    assert.ok(b.visited.some((v) => v.startsWith('GET /oidc/interaction/') && v.endsWith('/login')));

    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: req.verifier,
      expectedNonce: req.nonce,
      expectedState: req.state,
    });
    const idClaims = tokens.claims()!;
    assert.equal(idClaims.nonce, req.nonce, 'the nonce is echoed in the ID token');
    assert.equal(idClaims.iss, w.issuer);
    assert.ok(tokens.refresh_token, 'a refresh token is issued');

    const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    assert.equal(info.preferred_username, 'S100001');
    assert.equal(info.email, 'S100001@studenti.unidemo.example.org');
    assert.equal(info.given_name, 'Maria');
    assert.equal(info.family_name, 'Rossi');
    assert.equal(info.name, 'Maria Rossi');
    assert.equal(info.population, 'student');
    assert.deepEqual(info.eduperson_affiliation, ['student', 'member']);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'the refresh token rotates');
    const info2 = await client.fetchUserInfo(config, refreshed.access_token, idClaims.sub);
    assert.equal(info2.sub, idClaims.sub);
    const intro = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.sub, idClaims.sub);
    // Replaying the replaced refresh token fails and, being a sign of theft, ends the whole grant.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!), oauthError('invalid_grant'));
    assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false);

    // Single sign-on: a second authorization passes straight through, no login page.
    const again = await authorize(w, config, 'webmail');
    const mark = b.visited.length;
    await b.get(again.url);
    assert.ok(b.stoppedAt?.startsWith(again.redirectUri), 'signed-in person passes straight through');
    assert.ok(!b.visited.slice(mark).some((v) => v.includes('/flows/login')));
    const second = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: again.verifier,
      expectedNonce: again.nonce,
      expectedState: again.state,
    });
    assert.equal(second.claims()!.sub, idClaims.sub);
    // Revocation: a revoked refresh token no longer refreshes.
    await client.tokenRevocation(config, second.refresh_token!);
    await assert.rejects(client.refreshTokenGrant(config, second.refresh_token!), oauthError('invalid_grant'));

    // A token of another service of the same browser session, to check that signing out ends it.
    const libConfig = await rpConfig(w, 'library');
    const libReq = await authorize(w, libConfig, 'library');
    await b.get(libReq.url);
    await b.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok(b.stoppedAt?.startsWith(libReq.redirectUri), `library signed in by single sign-on: ${b.url}`);
    const lib = await client.authorizationCodeGrant(libConfig, new URL(b.stoppedAt!), {
      pkceCodeVerifier: libReq.verifier,
      expectedNonce: libReq.nonce,
      expectedState: libReq.state,
    });
    const third0 = await authorize(w, config, 'webmail');
    await b.get(third0.url);
    const live = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: third0.verifier,
      expectedNonce: third0.nonce,
      expectedState: third0.state,
    });
    assert.equal((await client.tokenIntrospection(config, live.access_token)).active, true);

    // RP-initiated logout, confirmed on Tessera's page; the service is told by back-channel.
    const logout = client.buildEndSessionUrl(config, { id_token_hint: second.id_token!, post_logout_redirect_uri: `${w.rp.base}/webmail/bye` });
    await b.get(logout.href);
    assert.match(b.text(), /Yes, sign me out/);
    await b.submit({ logout: 'yes' });
    assert.ok(b.stoppedAt?.startsWith(`${w.rp.base}/webmail/bye`), `back at the service after logout: ${b.url}`);
    for (let i = 0; i < 50 && w.rp.logoutTokens.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(w.rp.logoutTokens.length, 1, 'a back-channel logout token was posted');
    const payload = JSON.parse(Buffer.from(w.rp.logoutTokens[0]!.split('.')[1]!, 'base64url').toString());
    assert.equal(payload.sub, idClaims.sub);
    assert.ok(payload.events['http://schemas.openid.net/event/backchannel-logout']);
    // Every service of the session loses its tokens: access tokens and refresh tokens stop.
    assert.equal((await client.tokenIntrospection(config, live.access_token)).active, false, 'webmail access token revoked');
    await assert.rejects(client.refreshTokenGrant(config, live.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(libConfig, lib.access_token, lib.claims()!.sub), 'library access token revoked');
    await assert.rejects(client.refreshTokenGrant(libConfig, lib.refresh_token!), oauthError('invalid_grant'));

    // Signed out of Tessera too: the next authorization shows the login page again.
    const third = await authorize(w, config, 'webmail');
    await b.get(third.url);
    assert.match(b.url, /\/flows\/login\//);
  });

  it('signing out of one service only ("No, stay signed in") keeps the Tessera session', async () => {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail');
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, 'S100001');
    assert.ok(b.stoppedAt);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: req.verifier,
      expectedNonce: req.nonce,
      expectedState: req.state,
    });
    await b.get(`${w.issuer}/oidc/session/end?client_id=webmail&post_logout_redirect_uri=${encodeURIComponent(`${w.rp.base}/webmail/bye`)}`);
    await b.submit({});
    assert.ok(b.stoppedAt?.startsWith(`${w.rp.base}/webmail/bye`));
    // The service signed out of loses its tokens.
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
    const again = await authorize(w, config, 'webmail');
    await b.get(again.url);
    assert.ok(b.stoppedAt?.startsWith(again.redirectUri), 'still signed in at Tessera: straight through');
  });

  it('behind a balancer that passes on its own Host (an instance’s address), every address is PUBLIC_URL’s', async () => {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail');
    const b = browserFor(w);
    b.headers = { host: 'tessera-node-7.internal:3251' };
    await b.get(req.url);
    await fillLogin(b, 'S100001');
    assert.ok(b.stoppedAt?.startsWith(req.redirectUri), `back at the service: ${b.url}`);
    const origin = new URL(w.issuer).origin;
    assert.ok(b.visited.length > 3);
    assert.ok(!b.html.includes('tessera-node-7'), 'no page names the instance');
    // Discovery too, also when a client makes up forwarded headers.
    const meta = await w.t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration', headers: { host: 'tessera-node-7.internal:3251', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    const m = meta.json() as Record<string, unknown>;
    for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint']) assert.ok(String(m[k]).startsWith(`${origin}/`), `${k}: ${String(m[k])}`);
  });

  it('private_key_jwt client authentication', async () => {
    const config = await rpConfig(w, 'documents');
    const req = await authorize(w, config, 'documents');
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, 'S100001');
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: req.verifier,
      expectedNonce: req.nonce,
      expectedState: req.state,
    });
    assert.equal(tokens.claims()!.aud, 'documents');
  });
});
