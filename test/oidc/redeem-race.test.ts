import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedPerson, startWorld, webmailCode, webmailToken, type OidcWorld } from './harness.js';

/**
 * A code or a refresh token is good for one redemption, also when several arrive at once (a
 * service retrying, or two instances behind a balancer each taking one): the provider checks
 * `consumed` and then consumes, so the storage must let only one of them through.
 */
describe('single sign-on: a code or refresh token redeemed several times at once', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S300001');
  });
  after(() => w.close());

  const token = (body: Record<string, string>) => webmailToken(w, body);
  const code = () => webmailCode(w, 'S300001');

  it('one code, four redemptions at once: one set of tokens, the rest invalid_grant', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await code();
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => token({ grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier })),
      );
      const bodies = (await Promise.all(answers.map((a) => a.json()))) as Array<{ access_token?: string; error?: string }>;
      const won = bodies.filter((b) => b.access_token);
      assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(bodies.map((b) => b.error ?? 'tokens'))}`);
      for (const b of bodies) if (!b.access_token) assert.equal(b.error, 'invalid_grant');
    }
  });

  it('one refresh token, four refreshes at once: one new refresh token, never two live chains', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await code();
      const first = (await (await token({ grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier })).json()) as {
        refresh_token?: string;
      };
      assert.ok(first.refresh_token, 'a refresh token was issued');
      const answers = await Promise.all(Array.from({ length: 4 }, () => token({ grant_type: 'refresh_token', refresh_token: first.refresh_token! })));
      const bodies = (await Promise.all(answers.map((a) => a.json()))) as Array<{ refresh_token?: string; error?: string }>;
      const live = [];
      for (const b of bodies) {
        if (!b.refresh_token) continue;
        const again = await token({ grant_type: 'refresh_token', refresh_token: b.refresh_token });
        if (again.status === 200) live.push(b.refresh_token);
      }
      assert.ok(live.length <= 1, `round ${round}: ${live.length} refresh chains live (${JSON.stringify(bodies.map((b) => b.error ?? 'tokens'))})`);
    }
  });
});
