import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { authorize, browserFor, fillLogin, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

/** Runs an authorization in `b` and exchanges its code; `login` says whether the login page showed. */
async function signIn(w: OidcWorld, b: ReturnType<typeof browserFor>, id: 'webmail' | 'library', extra: Record<string, string>, username: string) {
  const config = await rpConfig(w, id);
  const req = await authorize(w, config, id, extra);
  await b.get(req.url);
  const login = /\/flows\/login\//.test(b.url);
  if (login) await fillLogin(b, username);
  // Another person signed in in this browser: the provider ends the previous person's session on
  // a page that submits itself (here, without JavaScript, the person presses Continue).
  if (!b.stoppedAt && /<form id="continue" method="post" action="\/oidc\/session\/end\/confirm">/.test(b.html)) await b.submit({});
  assert.ok(b.stoppedAt, `came back to the service: ${b.url} ${b.text().slice(0, 900)}`);
  const back = new URL(b.stoppedAt!);
  if (back.searchParams.get('error')) return { login, error: back.searchParams.get('error'), tokens: null };
  const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
  return { login, error: null, tokens };
}

/** Time passes for both clocks: the provider keeps real time, Tessera the test's clock. */
const pass = async (w: OidcWorld, ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  w.t.clock.advance(ms);
};

describe('single sign-on: fresh sign-in when a service asks for one', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S500001');
    await seedPerson(w, 'S500002');
    await seedPerson(w, 'E500001', 'external');
  });
  after(() => w.close());

  it('prompt=login asks for the password again even with a session, and auth_time moves', async () => {
    const b = browserFor(w);
    const first = await signIn(w, b, 'webmail', {}, 'S500001');
    assert.ok(first.login);
    const sso = await signIn(w, b, 'webmail', {}, 'S500001');
    assert.equal(sso.login, false, 'single sign-on without prompt');
    await pass(w, 1_100);
    const again = await signIn(w, b, 'webmail', { prompt: 'login' }, 'S500001');
    assert.ok(again.login, 'prompt=login shows the login page');
    const t1 = Number(first.tokens!.claims()!.auth_time);
    const t2 = Number(again.tokens!.claims()!.auth_time);
    assert.ok(t2 >= t1 + 1, `auth_time is the new sign-in: ${t1} → ${t2}`);
    // Single sign-on reports when the password was typed, not the moment of the redirect.
    await pass(w, 2_100);
    const later = await signIn(w, b, 'webmail', {}, 'S500001');
    assert.equal(later.login, false);
    assert.ok(Math.abs(Number(later.tokens!.claims()!.auth_time) - t2) <= 1, 'auth_time of single sign-on is the last sign-in');
  });

  it('max_age: a sign-in older than asked brings the password form back; a recent one passes', async () => {
    const b = browserFor(w);
    await signIn(w, b, 'webmail', {}, 'S500001');
    await pass(w, 2_100);
    const recentEnough = await signIn(w, b, 'webmail', { max_age: '3600' }, 'S500001');
    assert.equal(recentEnough.login, false);
    const tooOld = await signIn(w, b, 'webmail', { max_age: '1' }, 'S500001');
    assert.ok(tooOld.login, 'max_age=1 after two seconds asks again');
    assert.ok(tooOld.tokens, 'and then gives a code');
  });

  it('an id_token_hint naming someone else asks to sign in; still someone else gives login_required', async () => {
    const other = browserFor(w);
    const hinted = await signIn(w, other, 'webmail', {}, 'S500002');
    const b = browserFor(w);
    await signIn(w, b, 'webmail', {}, 'S500001');
    const mismatch = await signIn(w, b, 'webmail', { id_token_hint: hinted.tokens!.id_token! }, 'S500001');
    assert.ok(mismatch.login, 'the login page, to sign in as the person named');
    assert.equal(mismatch.error, 'login_required');
    const right = await signIn(w, b, 'webmail', { id_token_hint: hinted.tokens!.id_token! }, 'S500002');
    assert.ok(right.login);
    assert.equal(right.tokens!.claims()!.sub, hinted.tokens!.claims()!.sub);
    // The new person's Tessera session survives the provider's switch: single sign-on goes on.
    const next = await signIn(w, b, 'webmail', {}, 'S500002');
    assert.equal(next.login, false);
    assert.equal(next.tokens!.claims()!.sub, hinted.tokens!.claims()!.sub);
  });

  it('prompt=none for a population the service does not admit answers access_denied', async () => {
    const b = browserFor(w);
    await signIn(w, b, 'library', {}, 'E500001').catch(() => undefined);
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail', { prompt: 'none' });
    await b.get(req.url);
    const back = new URL(b.stoppedAt!);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('error_description'), 'access.service_not_available');
  });

  it('prompt=none from someone signed in on the portal only: a code at once, with auth_time of that sign-in; still max_age and populations hold', async () => {
    const b = browserFor(w);
    await b.get(`${w.issuer}/flows/login`);
    await fillLogin(b, 'S500002');
    assert.ok(!b.url.includes('/flows/login/'), `signed in on the portal: ${b.url}`);
    const signedInAt = Math.floor(Date.now() / 1000);
    await pass(w, 1100);
    const silent = await signIn(w, b, 'webmail', { prompt: 'none' }, 'S500002');
    assert.equal(silent.error, null, 'signed in to Tessera: no login_required');
    assert.equal(silent.login, false);
    const claims = silent.tokens!.claims()!;
    assert.ok(Math.abs(claims.auth_time! - signedInAt) <= 1, `auth_time is when the password was typed: ${claims.auth_time} ${signedInAt}`);
    // The provider session it began is the one the next requests use.
    assert.equal((await signIn(w, b, 'webmail', { prompt: 'none' }, 'S500002')).tokens!.claims()!.sid, claims.sid);

    // A sign-in older than max_age is not fresh enough for prompt=none.
    const older = browserFor(w);
    await older.get(`${w.issuer}/flows/login`);
    await fillLogin(older, 'S500002');
    await pass(w, 2100);
    assert.equal((await signIn(w, older, 'webmail', { prompt: 'none', max_age: '1' }, 'S500002')).error, 'login_required');

    // A population the service does not admit: access_denied, as with a provider session.
    const ext = browserFor(w);
    await ext.get(`${w.issuer}/flows/login`);
    await fillLogin(ext, 'E500001');
    assert.equal((await signIn(w, ext, 'webmail', { prompt: 'none' }, 'E500001')).error, 'access_denied');

    // Signed out of the portal: login_required.
    const none = browserFor(w);
    assert.equal((await signIn(w, none, 'webmail', { prompt: 'none' }, 'S500002')).error, 'login_required');
  });
});
