import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliverLogoutNotices, seedPerson, startWorld, verifyLogoutToken, webmailCode, webmailToken, type OidcWorld } from './harness.js';

/**
 * Signing out of the portal itself (its sign-out button, or `DELETE /api/v1/session`) ends what
 * the services got through that session: their refresh tokens (`offline_access` included, whose
 * consent reads "until you sign out") and access tokens stop working, and a service that takes
 * back-channel logout notices is told, so its own session ends too. A grant made on another
 * device, in another Tessera session, stays.
 */
describe('single sign-on: signing out of the portal', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S400001');
  });
  after(() => w.close());

  const token = (body: Record<string, string>) => webmailToken(w, body).then(async (r) => (await r.json()) as { access_token?: string; refresh_token?: string; id_token?: string; error?: string });
  const claimsOf = (idToken: string) => JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { sub: string; sid: string };
  const userinfo = (accessToken: string) => fetch(`${w.issuer}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } }).then((r) => r.status);

  /** A browser signed in to the portal and to webmail through it; the tokens webmail got. */
  async function signedIn() {
    const c = await webmailCode(w, 'S400001');
    const tokens = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier });
    assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token, JSON.stringify(tokens));
    return { browser: c.browser, tokens: tokens as { access_token: string; refresh_token: string; id_token: string } };
  }

  it('ends the tokens the services got through that session, not those of another device', async () => {
    const laptop = await signedIn();
    const phone = await signedIn();
    const sent = w.rp.logoutTokens.length;

    // The portal's own sign-out button, on the laptop.
    await laptop.browser.get(`${w.issuer}/account`);
    await laptop.browser.submit({}, { formAction: /\/logout$/ });
    assert.equal((await w.t.ctx.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'logout').executeTakeFirstOrThrow()).details, JSON.stringify({ servicesSignedOut: 1 }));

    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: laptop.tokens.refresh_token })).error, 'invalid_grant');
    assert.equal(await userinfo(laptop.tokens.access_token), 401);
    // The phone's session, and what webmail got through it, go on.
    assert.equal(await userinfo(phone.tokens.access_token), 200);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: phone.tokens.refresh_token });
    assert.ok(refreshed.refresh_token, JSON.stringify(refreshed));

    // Webmail takes back-channel logout notices: it is told of the laptop's session only.
    assert.equal((await deliverLogoutNotices(w)).sent, 1);
    assert.equal(w.rp.logoutTokens.length, sent + 1);
    const notice = await verifyLogoutToken(w, w.rp.logoutTokens.at(-1)!, 'webmail');
    assert.equal(notice.sub, claimsOf(laptop.tokens.id_token).sub);
    assert.equal(notice.sid, claimsOf(laptop.tokens.id_token).sid, "the laptop's session, as webmail knows it from its ID token");
    assert.notEqual(notice.sid, claimsOf(phone.tokens.id_token).sid);
    // Delivered once: nothing is left to send.
    assert.equal((await deliverLogoutNotices(w)).sent, 0);
  });

  it('a service that does not answer is told again later, and the notice carries a fresh token', async () => {
    const laptop = await signedIn();
    const sent = w.rp.logoutTokens.length;
    w.rp.backchannel.status = 503;
    try {
      await laptop.browser.get(`${w.issuer}/account`);
      await laptop.browser.submit({}, { formAction: /\/logout$/ });
      assert.deepEqual(await deliverLogoutNotices(w), { sent: 0, retried: 1, dead: 0 });
    } finally {
      w.rp.backchannel.status = 200;
    }
    const row = await w.t.ctx.db.kysely.selectFrom('outbox').selectAll().where('channel', '=', 'oidc:backchannel-logout').where('status', '=', 'pending').executeTakeFirstOrThrow();
    assert.equal(row.recipient, 'webmail');
    assert.match(row.last_error ?? '', /503/);
    assert.doesNotMatch(row.payload, /eyJ/, 'no token is stored: it is signed when sent');
    // Its retry comes due; this time webmail answers.
    w.t.clock.advance(60_000);
    assert.equal((await deliverLogoutNotices(w)).sent, 1);
    assert.equal(w.rp.logoutTokens.length, sent + 1);
    assert.equal((await verifyLogoutToken(w, w.rp.logoutTokens.at(-1)!, 'webmail')).sid, claimsOf(laptop.tokens.id_token).sid);
  });
});
