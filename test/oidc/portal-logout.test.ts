import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedPerson, startWorld, webmailCode, webmailToken, type OidcWorld } from './harness.js';

/**
 * Signing out of the portal itself (its sign-out button, or `DELETE /api/v1/session`) ends what
 * the services got through that session: their refresh tokens (`offline_access` included, whose
 * consent reads "until you sign out") and access tokens stop working. A grant made on another
 * device, in another Tessera session, stays.
 */
describe('single sign-on: signing out of the portal', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S400001');
  });
  after(() => w.close());

  const token = (body: Record<string, string>) => webmailToken(w, body).then(async (r) => (await r.json()) as { access_token?: string; refresh_token?: string; error?: string });
  const userinfo = (accessToken: string) => fetch(`${w.issuer}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } }).then((r) => r.status);

  /** A browser signed in to the portal and to webmail through it; the tokens webmail got. */
  async function signedIn() {
    const c = await webmailCode(w, 'S400001');
    const tokens = await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier });
    assert.ok(tokens.access_token && tokens.refresh_token, JSON.stringify(tokens));
    return { browser: c.browser, tokens: tokens as { access_token: string; refresh_token: string } };
  }

  it('ends the tokens the services got through that session, not those of another device', async () => {
    const laptop = await signedIn();
    const phone = await signedIn();

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
  });
});
