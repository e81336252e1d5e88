import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { adminHeaders } from '../helpers/clients.js';
import { lastMessage } from '../registration/outbox.js';
import { authorize, browserFor, fillLogin, rpConfig, seedPerson, startWorld, type OidcWorld } from '../oidc/harness.js';

const DAY = 86_400_000;

describe('purge-unused: a campus service refreshing its tokens is use of the account', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w.close());

  const runJob = async (job: string, dryRun = false) => {
    const r = await w.t.app.inject({ method: 'POST', url: `/api/v1/admin/jobs/${job}${dryRun ? '?dryRun=true' : ''}`, headers: adminHeaders });
    assert.equal(r.statusCode, 200, r.body);
    return r.json() as { counts: Record<string, number>; accounts: Array<{ username: string; action: string }> };
  };
  const statusOf = async (id: string) => (await w.t.ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
  const uses = (accountId: string) =>
    w.t.ctx.db.kysely.selectFrom('audit_log').select(['action', 'at', 'details']).where('account_id', '=', accountId).where('action', '=', 'oidc.token_refreshed').orderBy('id').execute();

  it('signed in once in December, kept signed in by the service in the new year: warned and purged only without that use', async () => {
    const t = w.t;
    // Two external registrations of 2025: one signs in to the document service before the new
    // year and the service keeps them signed in with refresh tokens; the other is never used.
    t.clock.set('2025-06-01T10:00:00Z');
    const user = await seedPerson(w, 'ext-refresh', 'external');
    await t.ctx.db.kysely.updateTable('persons').set({ personal_email: 'user@example.org' }).where('id', '=', user.personId).execute();
    const idle = await seedPerson(w, 'ext-idle', 'external');
    await t.ctx.db.kysely.updateTable('persons').set({ personal_email: 'idle@example.org' }).where('id', '=', idle.personId).execute();

    t.clock.set('2025-12-29T18:00:00Z');
    const config = await rpConfig(w, 'documents');
    const req = await authorize(w, config, 'documents');
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, 'ext-refresh');
    assert.ok(b.stoppedAt, `back at the service: ${b.url}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
    let refresh = tokens.refresh_token!;
    assert.ok(refresh);
    const refreshOnce = async () => (refresh = (await client.refreshTokenGrant(config, refresh)).refresh_token!);

    // The same evening the service refreshes: the sign-in is that day's use already.
    t.clock.advance(1_800_000);
    await refreshOnce();
    assert.equal((await uses(user.accountId)).length, 0);

    // 2 January 2026 (Rome): the service refreshes three times; 3 January once more.
    t.clock.set('2026-01-02T08:00:00Z');
    for (let i = 0; i < 3; i++) {
      await refreshOnce();
      t.clock.advance(3_600_000);
    }
    const firstDay = await uses(user.accountId);
    assert.equal(firstDay.length, 1, 'one entry a day, however often the service refreshes');
    assert.equal(firstDay[0]!.at, '2026-01-02T08:00:00.000Z');
    assert.deepEqual(JSON.parse(firstDay[0]!.details), { service: 'documents' });
    t.clock.set('2026-01-03T07:00:00Z');
    await refreshOnce();
    assert.equal((await uses(user.accountId)).length, 2);

    // The warning before 1 January 2027 goes only to the registration unused in 2026.
    t.clock.set('2026-12-03T03:00:00Z');
    const warned = await runJob('purge-unused');
    assert.deepEqual(warned.accounts, [{ username: 'ext-idle', action: 'warned' }]);
    assert.ok(await lastMessage(t.ctx, 'idle@example.org', 'purge_warning'));
    assert.equal(await lastMessage(t.ctx, 'user@example.org', 'purge_warning'), null);

    // 2 January 2027: the unused one is purged; the one the service kept using is not.
    t.clock.set('2027-01-02T03:00:00Z');
    assert.deepEqual((await runJob('purge-unused', true)).accounts, [{ username: 'ext-idle', action: 'purged' }]);
    assert.deepEqual((await runJob('purge-unused')).counts, { purged: 1 });
    assert.equal(await statusOf(idle.accountId), 'purged');
    assert.equal(await statusOf(user.accountId), 'active');
    t.clock.advance(DAY);
    assert.deepEqual((await runJob('purge-unused')).counts, {});
  });
});
