import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { lazyProvider } from '../../src/oidc/lazy-provider.js';
import { tokenStillAdmitted } from '../../src/oidc/provider.js';
import { authorize, browserFor, fillLogin, LIB_SECRET, rpConfig, SECRET, seedPerson, startWorld, type OidcWorld } from './harness.js';

/**
 * Token introspection (RFC 7662) answers as refresh and userinfo do: a token of a person the
 * service it was issued to no longer admits (another population, an account no longer active) is
 * `active: false` at once, not only when it expires.
 */
describe('single sign-on: token introspection follows the service\'s populations', () => {
  let w: OidcWorld;
  const people: Record<string, { personId: string; accountId: string }> = {};
  before(async () => {
    w = await startWorld();
    for (const id of ['S700001', 'S700002', 'S700003', 'S700004']) people[id] = await seedPerson(w, id);
  });
  after(() => w.close());

  const secrets = { webmail: SECRET, library: LIB_SECRET };

  /** A code flow to a service in a new browser (consenting if asked), and its tokens. */
  async function tokensFor(username: string, service: 'webmail' | 'library') {
    const config = await rpConfig(w, service);
    const req = await authorize(w, config, service);
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, username);
    if (!b.stoppedAt) await b.submit({}, { action: 'allow', formAction: /confirm/ });
    assert.ok(b.stoppedAt, `back at the service: ${b.url}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    return { config, tokens };
  }

  /** The introspection endpoint's answer, asked by a service (client_secret_basic). */
  async function introspect(service: 'webmail' | 'library', token: string, hint?: 'access_token' | 'refresh_token') {
    const r = await fetch(`${w.issuer}/oidc/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${service}:${secrets[service]}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) }).toString(),
    });
    assert.equal(r.status, 200);
    return (await r.json()) as { active: boolean; sub?: string; client_id?: string };
  }
  const active = async (service: 'webmail' | 'library', token: string, hint?: 'access_token' | 'refresh_token') => (await introspect(service, token, hint)).active;

  const setPopulation = (username: string, population: string) =>
    w.t.ctx.db.kysely.updateTable('persons').set({ population }).where('id', '=', people[username]!.personId).execute();
  const setStatus = (username: string, status: string) =>
    w.t.ctx.db.kysely.updateTable('accounts').set({ status }).where('id', '=', people[username]!.accountId).execute();

  it('a person who comes to be of a population the service does not admit: active false at once; admitted again, active again', async () => {
    const mine = await tokensFor('S700001', 'webmail');
    const other = await tokensFor('S700002', 'webmail');
    const sub = mine.tokens.claims()!.sub;
    const seen = await introspect('webmail', mine.tokens.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen.sub, sub);
    assert.equal(seen.client_id, 'webmail');
    assert.equal(await active('webmail', mine.tokens.refresh_token!, 'refresh_token'), true);

    // The record comes to be of the external population, which webmail does not admit.
    await setPopulation('S700001', 'external');
    assert.deepEqual(await introspect('webmail', mine.tokens.access_token), { active: false });
    assert.deepEqual(await introspect('webmail', mine.tokens.access_token, 'access_token'), { active: false });
    assert.deepEqual(await introspect('webmail', mine.tokens.refresh_token!, 'refresh_token'), { active: false });
    // As userinfo refuses it.
    await assert.rejects(client.fetchUserInfo(mine.config, mine.tokens.access_token, sub), (e: unknown) => (e as { status?: number }).status === 401);
    // Someone else's token, admitted, stays active.
    assert.equal(await active('webmail', other.tokens.access_token), true);

    // Back among the students: the same tokens are active again.
    await setPopulation('S700001', 'student');
    assert.equal(await active('webmail', mine.tokens.access_token), true);
    assert.equal(await active('webmail', mine.tokens.refresh_token!, 'refresh_token'), true);
  });

  it('the populations that count are those of the service the token was issued to', async () => {
    // The library admits students and external users, not staff.
    const lib = await tokensFor('S700003', 'library');
    assert.equal(await active('library', lib.tokens.access_token), true);
    await setPopulation('S700003', 'external');
    assert.equal(await active('library', lib.tokens.access_token), true, 'external users are admitted by the library');
    await setPopulation('S700003', 'staff');
    assert.deepEqual(await introspect('library', lib.tokens.access_token), { active: false });

    // Asked about by another service (a resource server; the endpoint itself answers only the
    // token's own service), the library's populations decide, not the asking service's.
    const provider = await lazyProvider(w.t.ctx);
    const [webmail, token] = await Promise.all([provider.Client.find('webmail'), provider.AccessToken.find(lib.tokens.access_token)]);
    assert.ok(webmail && token);
    const asking = { oidc: { client: webmail, provider } } as unknown as KoaContextWithOIDC;
    assert.equal(await tokenStillAdmitted(w.t.ctx, asking, token), false, 'staff: webmail admits them, the library does not');
    await setPopulation('S700003', 'external');
    assert.equal(await tokenStillAdmitted(w.t.ctx, asking, token), true, 'external: the library admits them, webmail does not');
    await setPopulation('S700003', 'student');
    assert.equal(await tokenStillAdmitted(w.t.ctx, asking, token), true);
  });

  it('an account no longer active: active false, as userinfo refuses it', async () => {
    const mine = await tokensFor('S700004', 'webmail');
    const other = await tokensFor('S700002', 'webmail');
    const sub = mine.tokens.claims()!.sub;
    assert.equal(await active('webmail', mine.tokens.access_token), true);
    await setStatus('S700004', 'suspended');
    assert.deepEqual(await introspect('webmail', mine.tokens.access_token), { active: false });
    assert.deepEqual(await introspect('webmail', mine.tokens.refresh_token!, 'refresh_token'), { active: false });
    await assert.rejects(client.fetchUserInfo(mine.config, mine.tokens.access_token, sub), (e: unknown) => (e as { status?: number }).status === 401);
    assert.equal(await active('webmail', other.tokens.access_token), true);
    await setStatus('S700004', 'active');
    assert.equal(await active('webmail', mine.tokens.access_token), true);
  });
});
