import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { authorize, browserFor, fillLogin, oauthError, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

/** Signs in to `id` and returns the authorization request and the callback URL with the code. */
async function codeFor(w: OidcWorld, id: 'webmail' | 'library', username: string) {
  const config = await rpConfig(w, id);
  const req = await authorize(w, config, id);
  const b = browserFor(w);
  await b.get(req.url);
  await fillLogin(b, username);
  assert.ok(b.stoppedAt, `came back with a code: ${b.url} ${b.text().slice(0, 200)}`);
  return { config, req, callback: new URL(b.stoppedAt!), b };
}

describe('single sign-on: what is refused', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S200001');
    await seedPerson(w, 'E200001', 'external');
  });
  after(() => w.close());

  it('a redirect URI that is not registered is refused on Tessera\'s page, never redirected to', async () => {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail', { redirect_uri: 'http://127.0.0.1:1/evil/cb' });
    const b = browserFor(w);
    await b.get(req.url);
    assert.equal(b.stoppedAt, null);
    assert.equal(b.status, 400);
    assert.match(b.text(), /could not sign you in/);
    assert.match(b.text(), /invalid_redirect_uri/);
  });

  it('an authorization request without PKCE is refused', async () => {
    const config = await rpConfig(w, 'webmail');
    const url = client.buildAuthorizationUrl(config, { redirect_uri: `${w.rp.base}/webmail/cb`, scope: 'openid', state: 'x' });
    const b = browserFor(w);
    await b.get(url.href);
    assert.ok(b.stoppedAt);
    const back = new URL(b.stoppedAt!);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });

  it('a code used twice fails the second time and revokes what the first use issued', async () => {
    const { config, req, callback } = await codeFor(w, 'webmail', 'S200001');
    const checks = { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state };
    const first = await client.authorizationCodeGrant(config, callback, checks);
    assert.equal((await client.tokenIntrospection(config, first.access_token)).active, true);
    await assert.rejects(client.authorizationCodeGrant(config, callback, checks), oauthError('invalid_grant'));
    assert.equal((await client.tokenIntrospection(config, first.access_token)).active, false, 'the grant is revoked');
    await assert.rejects(client.refreshTokenGrant(config, first.refresh_token!), oauthError('invalid_grant'));
  });

  it('a wrong PKCE verifier is refused', async () => {
    const { config, req, callback } = await codeFor(w, 'webmail', 'S200001');
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedNonce: req.nonce, expectedState: req.state }),
      oauthError('invalid_grant'),
    );
  });

  it('an expired code is refused', async () => {
    const { config, req, callback } = await codeFor(w, 'webmail', 'S200001');
    w.t.clock.advance(61_000);
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state }),
      oauthError('invalid_grant'),
    );
  });

  it('the nonce is echoed, and a different one is rejected by the relying party', async () => {
    const { config, req, callback } = await codeFor(w, 'webmail', 'S200001');
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: req.verifier, expectedNonce: client.randomNonce(), expectedState: req.state }),
      (e: unknown) => /"nonce"/.test(String((e as { cause?: Error }).cause?.message)),
    );
  });

  it('a population the service does not admit sees the page in their language; the service gets access_denied', async () => {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail');
    const b = browserFor(w, 'it');
    await b.get(req.url);
    await fillLogin(b, 'E200001');
    assert.equal(b.status, 403);
    assert.equal(b.stoppedAt, null);
    assert.match(b.text(), /Servizio non disponibile per gli utenti esterni\./);
    assert.match(b.html, /data-code="access.service_not_available"/);
    const back = /<a class="button[^"]*" href="([^"]+)"/.exec(b.html)![1]!.replace(/&amp;/g, '&');
    await b.get(new URL(back, w.issuer).href);
    const cb = new URL(b.stoppedAt!);
    assert.equal(cb.searchParams.get('error'), 'access_denied');
    assert.equal(cb.searchParams.get('state'), req.state);
    const refused = await w.t.ctx.db.kysely.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'sso.refused_population').execute();
    assert.equal(refused.length, 1);
    assert.deepEqual(JSON.parse(refused[0]!.details), { service: 'webmail' });

    // Already signed in (single sign-on), the same person is stopped the same way, in English here.
    const again = await authorize(w, config, 'webmail');
    const en = browserFor(w, 'en');
    await en.get(req.url);
    await fillLogin(en, 'E200001');
    await en.get(again.url);
    assert.equal(en.status, 403);
    assert.match(en.text(), /This service is not available to external users\./);
  });

  it('a service that is not first-party asks for consent once; refusing gives access_denied', async () => {
    const config = await rpConfig(w, 'library');
    const req = await authorize(w, config, 'library');
    const b = browserFor(w, 'en');
    await b.get(req.url);
    await fillLogin(b, 'E200001');
    assert.match(b.text(), /Allow access to your account\?/);
    assert.match(b.text(), /Library asks to use/);
    assert.match(b.text(), /your email address/);
    await b.submit({}, { action: 'deny', formAction: /confirm/ });
    assert.equal(new URL(b.stoppedAt!).searchParams.get('error'), 'access_denied');

    const req2 = await authorize(w, config, 'library');
    await b.get(req2.url);
    assert.match(b.text(), /Allow access to your account\?/);
    await b.submit({}, { action: 'allow', formAction: /confirm/ });
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: req2.verifier,
      expectedNonce: req2.nonce,
      expectedState: req2.state,
    });
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.population, 'external');
    assert.deepEqual(info.eduperson_affiliation, ['affiliate']);

    // Consent is remembered: the next sign-in passes straight through.
    const req3 = await authorize(w, config, 'library');
    await b.get(req3.url);
    assert.ok(b.stoppedAt?.includes('code='));

    // Also in another browser (a new session): consent is asked once.
    const fresh = browserFor(w, 'en');
    const req4 = await authorize(w, config, 'library');
    await fresh.get(req4.url);
    await fillLogin(fresh, 'E200001');
    assert.ok(fresh.stoppedAt?.includes('code='), `no consent screen the second time: ${fresh.url} ${fresh.text().slice(0, 200)}`);
  });

  it('consent covers what was allowed; asking for more shows only what is new', async () => {
    const config = await rpConfig(w, 'library');
    const first = browserFor(w, 'en');
    const req = await authorize(w, config, 'library', { scope: 'openid email' });
    await first.get(req.url);
    await fillLogin(first, 'S200001');
    assert.match(first.text(), /your email address/);
    await first.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok(first.stoppedAt?.includes('code='));

    const other = browserFor(w, 'en');
    const same = await authorize(w, config, 'library', { scope: 'openid email' });
    await other.get(same.url);
    await fillLogin(other, 'S200001');
    assert.ok(other.stoppedAt?.includes('code='), 'allowed before: straight through');
    const more = await authorize(w, config, 'library', { scope: 'openid email profile' });
    await other.get(more.url);
    assert.match(other.text(), /Allow access to your account\?/);
    assert.match(other.text(), /your name and username/);
    assert.doesNotMatch(other.text(), /your email address/, 'what was allowed before is not asked again');
    // prompt=consent asks again for everything requested, even what was allowed.
    const ask = await authorize(w, config, 'library', { scope: 'openid email', prompt: 'consent' });
    await other.get(ask.url);
    assert.match(other.text(), /your email address/);
  });

  it('a first-party service asking for more scopes later gets them without a consent screen', async () => {
    const config = await rpConfig(w, 'webmail');
    const b = browserFor(w, 'en');
    const req = await authorize(w, config, 'webmail', { scope: 'openid' });
    await b.get(req.url);
    await fillLogin(b, 'S200001');
    assert.ok(b.stoppedAt?.includes('code='));
    const more = await authorize(w, config, 'webmail', { scope: 'openid email profile' });
    await b.get(more.url);
    assert.ok(b.stoppedAt?.startsWith(more.redirectUri), `straight through: ${b.url} ${b.text().slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: more.verifier,
      expectedNonce: more.nonce,
      expectedState: more.state,
    });
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(info.email, 'S200001@studenti.unidemo.example.org');
  });

  it('a malformed interaction id is an unknown interaction, not a server error', async () => {
    for (const [method, path] of [
      ['GET', '/oidc/interaction/abc'],
      ['GET', '/oidc/interaction/abc/login'],
      ['POST', '/oidc/interaction/abc/confirm'],
      ['GET', '/oidc/interaction/abc%21defghijkl'],
    ] as const) {
      const res = await fetch(`${w.issuer}${path}`, { method, headers: { accept: 'application/json' }, ...(method === 'POST' ? { body: '' } : {}) });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'flow.not_found');
    }
  });

  it('a consent form without its token is refused', async () => {
    const config = await rpConfig(w, 'library');
    const req = await authorize(w, config, 'library');
    const b = browserFor(w, 'en');
    await b.get(req.url);
    await fillLogin(b, 'S200001');
    assert.match(b.text(), /Allow access/);
    await b.submit({ _csrf: 'forged' }, { action: 'allow', formAction: /confirm/ });
    assert.equal(b.status, 403);
    assert.equal(b.stoppedAt, null);
  });
});
