import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { authorize, browserFor, fillLogin, oauthError, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

/**
 * A person takes back what they allowed a service that asked (not first-party): on the account
 * page or through the API, the consent is forgotten and everything the service holds for them ends.
 */
describe('single sign-on: withdrawing what a service was allowed', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S300001');
    await seedPerson(w, 'S300002');
  });
  after(() => w.close());

  /** Signs in to the library through the consent page (allowing it), and to webmail, in one browser. */
  async function signedInToBoth(username: string) {
    const b = browserFor(w, 'it');
    const tokens: Record<string, client.TokenEndpointResponse> = {};
    for (const service of ['library', 'webmail'] as const) {
      const config = await rpConfig(w, service);
      // The library asks; webmail, first-party, signs in without asking (no offline access).
      const req = await authorize(w, config, service, service === 'library' ? { scope: 'openid email offline_access', prompt: 'consent' } : { scope: 'openid email' });
      await b.get(req.url);
      if (/\/flows\/login\//.test(b.url)) await fillLogin(b, username);
      if (!b.stoppedAt) await b.submit({}, { action: 'allow', formAction: /confirm/ });
      assert.ok(b.stoppedAt, `back at ${service}: ${b.url}`);
      tokens[service] = await client.authorizationCodeGrant(config, new URL(b.stoppedAt), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    }
    return { b, tokens: tokens as Record<'library' | 'webmail', client.TokenEndpointResponse> };
  }

  const userinfo = (token: string) => fetch(`${w.issuer}/oidc/me`, { headers: { authorization: `Bearer ${token}` } });

  it('on the account page: listed with what was allowed; withdrawn, the library\'s tokens end and it asks again; webmail goes on', async () => {
    const { b, tokens } = await signedInToBoth('S300001');
    await b.get(`${w.issuer}/account`);
    assert.match(b.text(), /Servizi che hai autorizzato/);
    assert.match(b.text(), /Library/);
    assert.match(b.text(), /il tuo indirizzo email/);
    // First-party services never asked, so they are not listed.
    assert.doesNotMatch(b.text(), /Posta/);
    assert.match(b.html, /aria-label="Revoca l’accesso a Library"/);
    assert.equal((await userinfo(tokens.library.access_token)).status, 200);

    await b.submit({}, { formAction: /\/account\/consents/ });
    assert.match(b.url, /\/account/);
    assert.doesNotMatch(b.text(), /Servizi che hai autorizzato/);
    // The library's access and refresh tokens are dead; webmail's still work.
    assert.equal((await userinfo(tokens.library.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(await rpConfig(w, 'library'), tokens.library.refresh_token!), oauthError('invalid_grant'));
    assert.equal((await userinfo(tokens.webmail.access_token)).status, 200);
    // The next sign-in to the library asks again, though the person is still signed in.
    const config = await rpConfig(w, 'library');
    const again = await authorize(w, config, 'library', { scope: 'openid email' });
    await b.get(again.url);
    assert.equal(b.stoppedAt, null);
    assert.match(b.html, /confirm/);
    const audit = await w.t.ctx.db.kysely.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'oidc.consent_withdrawn').execute();
    assert.deepEqual(audit.map((a) => JSON.parse(a.details)), [{ service: 'library' }]);
  });

  it('a withdraw form from another session, or without its token, changes nothing', async () => {
    const { b, tokens } = await signedInToBoth('S300002');
    const cookie = b.cookieHeader(new URL(w.issuer));
    const forged = await fetch(`${w.issuer}/account/consents`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'service=library&_csrf=forged',
      redirect: 'manual',
    });
    assert.equal(forged.status, 403);
    assert.equal((await userinfo(tokens.library.access_token)).status, 200);
  });

  it('through the API: listed, then withdrawn (204), then nothing left to withdraw (404)', async () => {
    const api = (method: string, path: string, token: string) => fetch(`${w.issuer}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'accept-language': 'en' } });
    const { tokens } = await signedInToBoth('S300002');
    const login = await (await fetch(`${w.issuer}/api/v1/flows/login`, { method: 'POST' })).json() as { id: string };
    const done = await (await fetch(`${w.issuer}/api/v1/flows/login/${login.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'S300002', password: 'Correct-Horse-42' }) })).json() as { result: { sessionToken: string } };
    const session = done.result.sessionToken;
    const list = await (await api('GET', '/api/v1/session/consents', session)).json() as { consents: Array<{ service: string; name: string; scopes: string[] }> };
    assert.deepEqual(list.consents.map((c) => [c.service, c.name]), [['library', 'Library']]);
    assert.ok(list.consents[0]!.scopes.includes('email'));
    assert.equal((await api('DELETE', '/api/v1/session/consents/library', session)).status, 204);
    assert.equal((await userinfo(tokens.library.access_token)).status, 401);
    const twice = await api('DELETE', '/api/v1/session/consents/library', session);
    assert.equal(twice.status, 404);
    assert.equal((await api('GET', '/api/v1/session/consents', 'not-a-session')).status, 401);
  });
});
