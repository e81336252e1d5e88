import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { lazyProvider } from '../../src/oidc/lazy-provider.js';
import { plainUserinfo } from '../../src/oidc/userinfo.js';
import { authorize, browserFor, fillLogin, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

/**
 * Userinfo's plain case (GET, Bearer header) is answered by Tessera with the provider's models,
 * without its pipeline; everything else by the provider. Both must give the same answer.
 */
describe('single sign-on: userinfo', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S200001');
    await seedPerson(w, 'S200002');
  });
  after(() => w.close());

  async function tokensFor(username: string, service: 'webmail' | 'library', scope: string) {
    const config = await rpConfig(w, service);
    const req = await authorize(w, config, service, { scope });
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, username);
    if (!b.stoppedAt) await b.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok(b.stoppedAt, `back at the service: ${b.url}`);
    return client.authorizationCodeGrant(config, new URL(b.stoppedAt), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
  }

  const get = (token: string, headers: Record<string, string> = {}) => fetch(`${w.issuer}/oidc/me`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  // A POST is never the plain case: the provider answers it.
  const post = (token: string) =>
    fetch(`${w.issuer}/oidc/me`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });

  it('answers with exactly the provider\'s claims for each set of scopes, with no-store', async () => {
    const cases: Array<[string, string[]]> = [
      ['openid', ['sub']],
      ['openid email', ['email', 'email_verified', 'sub']],
      ['openid profile', ['family_name', 'given_name', 'name', 'preferred_username', 'sub']],
      ['openid profile email institution', ['eduperson_affiliation', 'email', 'email_verified', 'family_name', 'given_name', 'name', 'population', 'preferred_username', 'sub']],
    ];
    for (const [scope, names] of cases) {
      const tokens = await tokensFor('S200001', 'webmail', scope);
      const provider = await lazyProvider(w.t.ctx);
      const fastReq = { method: 'GET', raw: { url: '/oidc/me' }, headers: { authorization: `Bearer ${tokens.access_token}` } };
      assert.ok(await plainUserinfo(w.t.ctx, provider, fastReq as never), `${scope}: the plain case is answered without the provider's pipeline`);
      const fast = await get(tokens.access_token);
      const slow = await post(tokens.access_token);
      assert.equal(fast.status, 200, scope);
      assert.equal(slow.status, 200, scope);
      assert.equal(fast.headers.get('cache-control'), 'no-store');
      assert.match(fast.headers.get('content-type') ?? '', /^application\/json/);
      assert.ok(fast.headers.get('content-security-policy'), 'the site\'s security headers are on the answer');
      const body = (await fast.json()) as Record<string, unknown>;
      assert.deepEqual(body, await slow.json(), `${scope}: the same claims as the provider's own endpoint`);
      assert.deepEqual(Object.keys(body).sort(), names, scope);
    }
  });

  it('a service that needed consent gets only the claims the person allowed', async () => {
    const tokens = await tokensFor('S200002', 'library', 'openid email');
    const fast = (await (await get(tokens.access_token)).json()) as Record<string, unknown>;
    assert.deepEqual(fast, await (await post(tokens.access_token)).json());
    assert.deepEqual(Object.keys(fast).sort(), ['email', 'email_verified', 'sub']);
  });

  it('the provider answers what is not the plain case, and every failure, with its error', async () => {
    const tokens = await tokensFor('S200001', 'webmail', 'openid profile');
    // A query (here the scope parameter) goes to the provider, which checks it.
    const scoped = await fetch(`${w.issuer}/oidc/me?scope=openid%20email`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(scoped.status, 403);
    assert.match(scoped.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    // A call from a web page (CORS) is the provider's to judge: it allows no origin, so no claims.
    const cors = await get(tokens.access_token, { origin: w.rp.base });
    assert.equal(cors.status, 400);
    assert.doesNotMatch(await cors.text(), /preferred_username/);
    // Unknown and malformed tokens: 401 with the challenge, no claims; no token at all: 400.
    for (const bad of ['not-a-token', 'x'.repeat(43), '']) {
      const res = bad ? await get(bad) : await fetch(`${w.issuer}/oidc/me`);
      assert.equal(res.status, bad ? 401 : 400, `token ${JSON.stringify(bad)}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      const text = await res.text();
      assert.doesNotMatch(text, /preferred_username/);
    }
    // A suspended account's tokens stop at once.
    const accountId = (await w.t.ctx.db.kysely.selectFrom('accounts').select('id').where('username', '=', 'S200001').executeTakeFirstOrThrow()).id;
    await w.t.ctx.db.kysely.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', accountId).execute();
    try {
      const res = await get(tokens.access_token);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    } finally {
      await w.t.ctx.db.kysely.updateTable('accounts').set({ status: 'active' }).where('id', '=', accountId).execute();
    }
    // A revoked token stops too.
    const config = await rpConfig(w, 'webmail');
    await client.tokenRevocation(config, tokens.access_token);
    const revoked = await get(tokens.access_token);
    assert.equal(revoked.status, 401);
    assert.match(revoked.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});
