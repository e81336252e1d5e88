import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { authorize, browserFor, fillLogin, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

const htmlLang = (html: string) => /<html[^>]*\slang="([a-z]+)"/.exec(html)?.[1];
const usernameValue = (html: string) => /<input[^>]*\bvalue="([^"]*)"[^>]*name="username"/.exec(html)?.[1] ?? '';

describe('single sign-on: what the service suggests (ui_locales, login_hint)', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S700001');
    await seedPerson(w, 'E700001', 'external');
  });
  after(() => w.close());

  it('discovery names the languages a service may ask for', async () => {
    const meta = (await (await fetch(`${w.issuer}/.well-known/openid-configuration`)).json()) as { ui_locales_supported?: string[] };
    assert.deepEqual(meta.ui_locales_supported, ['it', 'en', 'el']);
  });

  it('ui_locales: the sign-in page and the pages after it are in the first language Tessera speaks', async () => {
    const config = await rpConfig(w, 'webmail');
    const b = browserFor(w, 'en');
    await b.get((await authorize(w, config, 'webmail', { ui_locales: 'fr el-GR it' })).url);
    assert.match(b.url, /\/flows\/login\//);
    assert.equal(htmlLang(b.html), 'el');
    await fillLogin(b, 'S700001');
    assert.ok(b.stoppedAt, 'back at the service');

    // The refusal page of a population the service does not admit, too.
    const e = browserFor(w, 'en');
    await e.get((await authorize(w, config, 'webmail', { ui_locales: 'it' })).url);
    assert.equal(htmlLang(e.html), 'it');
    await fillLogin(e, 'E700001');
    assert.equal(e.status, 403);
    assert.equal(htmlLang(e.html), 'it');
    assert.match(e.text(), /Servizio non disponibile per gli utenti esterni/);
  });

  it("ui_locales: the provider's own pages (sign-out confirmation, errors) are in that language too", async () => {
    const b = browserFor(w, 'en');
    await b.get(`${w.issuer}/oidc/session/end?client_id=webmail&post_logout_redirect_uri=${encodeURIComponent(`${w.rp.base}/webmail/bye`)}&state=s&ui_locales=el`);
    assert.equal(b.status, 200);
    assert.equal(htmlLang(b.html), 'el');
    const e = browserFor(w, 'en');
    await e.get(`${w.issuer}/oidc/auth?client_id=webmail&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/evil')}&ui_locales=it`);
    assert.equal(e.status, 400);
    assert.equal(htmlLang(e.html), 'it');
  });

  it('ui_locales does not override a language the person chose on the site', async () => {
    const config = await rpConfig(w, 'webmail');
    const b = browserFor(w, 'en');
    await b.get(`${w.issuer}/?lang=en`);
    await b.get((await authorize(w, config, 'webmail', { ui_locales: 'el' })).url);
    assert.match(b.url, /\/flows\/login\//);
    assert.equal(htmlLang(b.html), 'en');
  });

  it('login_hint fills the username field; the person may still sign in as someone else', async () => {
    const config = await rpConfig(w, 'webmail');
    const b = browserFor(w);
    const req = await authorize(w, config, 'webmail', { login_hint: 'S700001' });
    await b.get(req.url);
    assert.equal(usernameValue(b.html), 'S700001');
    await fillLogin(b, 'S700001');
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).preferred_username, 'S700001');

    // A hint that cannot be a username (a line break, markup) leaves the field empty.
    const other = browserFor(w);
    await other.get((await authorize(w, config, 'webmail', { login_hint: 'a\nb' })).url);
    assert.equal(usernameValue(other.html), '');
  });
});
