import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { transitionAccount } from '../../src/accounts/lifecycle.js';
import { findAccountById } from '../../src/accounts/repository.js';
import { rotateSigningKeys } from '../../src/oidc/keys.js';
import { ADMIN_TOKEN } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { lastMessage } from '../registration/outbox.js';
import { admin, authorize, browserFor, deliverLogoutNotices, fillLogin, oauthError, PASSWORD, rpConfig, seedPerson, signIn, startWorld, verifyLogoutToken, type OidcWorld } from './harness.js';

describe('campus services and the end of access', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w.close());

  it('a service registered through the API logs people in at once; listing and deleting', async () => {
    await seedPerson(w, 'S300001');
    const bad = await admin(w, 'POST', '/api/v1/admin/services', { id: 'Moodle!', name: 'Moodle', populations: [] });
    assert.equal(bad.status, 422);
    const badBody = (await bad.json()) as { error: { code: string; fields: Record<string, string> } };
    assert.equal(badBody.error.code, 'validation.failed');
    assert.deepEqual(badBody.error.fields, { id: 'field.invalid', populations: 'field.invalid', redirectUris: 'field.required' });
    // A value of the wrong type is invalid, not missing; an unknown key is named; sizes are bounded.
    const wrongTypes = await admin(w, 'POST', '/api/v1/admin/services', { id: 5, name: 'Moodle', redirectUris: ['https://m.example/cb'], populations: 'staff', colour: 'red' });
    assert.deepEqual(((await wrongTypes.json()) as { error: { fields: Record<string, string> } }).error.fields, { id: 'field.invalid', populations: 'field.invalid', colour: 'field.unknown' });
    const huge = await admin(w, 'POST', '/api/v1/admin/services', {
      id: 'moodle',
      name: 'M'.repeat(5000),
      redirectUris: Array.from({ length: 21 }, (_, i) => `https://m.example/cb${i}`),
      populations: ['student'],
    });
    assert.deepEqual(((await huge.json()) as { error: { fields: Record<string, string> } }).error.fields, { name: 'field.too_long', redirectUris: 'field.invalid' });
    // Addresses the provider would refuse at every sign-in are refused at registration.
    for (const uri of [`${w.rp.base}/moodle/cb#x`, 'javascript:alert(1)']) {
      const r = await admin(w, 'POST', '/api/v1/admin/services', { id: 'moodle', name: 'Moodle', redirectUris: [uri], populations: ['student'] });
      assert.equal(r.status, 422, uri);
      assert.equal(((await r.json()) as { error: { fields: Record<string, string> } }).error.fields.redirectUris, 'field.invalid');
    }

    const res = await admin(w, 'POST', '/api/v1/admin/services', {
      id: 'moodle',
      name: { en: 'Moodle', it: 'Moodle' },
      protocol: 'oidc',
      redirectUris: [`${w.rp.base}/moodle/cb`],
      postLogoutRedirectUris: [],
      populations: ['student'],
    });
    assert.equal(res.status, 201);
    const created = (await res.json()) as { clientId: string; clientSecret: string };
    assert.equal(created.clientId, 'moodle');
    assert.ok(created.clientSecret.length >= 40);
    const stored = await w.t.ctx.db.kysely.selectFrom('oidc_services').selectAll().where('id', '=', 'moodle').executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(created.clientSecret), 'the secret is not stored in clear');

    assert.equal((await admin(w, 'POST', '/api/v1/admin/services', { id: 'moodle', name: 'x', redirectUris: ['https://x.example/cb'], populations: ['student'] })).status, 409);
    assert.equal((await admin(w, 'POST', '/api/v1/admin/services', { id: 'webmail', name: 'x', redirectUris: ['https://x.example/cb'], populations: ['student'] })).status, 409);
    // The same new service registered at the same moment by another instance: the second answers
    // 409 like any duplicate, not 500. (PostgreSQL: the other instance's insert is held open until
    // this request has checked the list and waits on the same key.)
    if (w.t.ctx.db.dialect === 'postgres') {
      const db = w.t.ctx.db.kysely;
      let pending!: Promise<Response>;
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('oidc_services').values({ id: 'twice', name: '"x"', metadata: '{}', sealed_secret: null, created_at: new Date().toISOString() }).execute();
        pending = admin(w, 'POST', '/api/v1/admin/services', { id: 'twice', name: 'x', redirectUris: ['https://x.example/cb'], populations: ['student'] });
        for (let i = 0; i < 200; i++) {
          const waiting = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`.execute(db);
          if (waiting.rows[0]!.n > 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
      });
      const r = await pending;
      assert.equal(r.status, 409);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'service.exists');
      assert.equal((await admin(w, 'DELETE', '/api/v1/admin/services/twice')).status, 204);
    }

    const config = await client.discovery(new URL(w.issuer), 'moodle', undefined, client.ClientSecretBasic(created.clientSecret), {
      execute: [client.allowInsecureRequests],
    });
    const req = await authorize(w, config, 'moodle');
    const b = browserFor(w);
    await b.get(req.url);
    await fillLogin(b, 'S300001');
    const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), {
      pkceCodeVerifier: req.verifier,
      expectedNonce: req.nonce,
      expectedState: req.state,
    });
    assert.equal(tokens.claims()!.aud, 'moodle');

    const wrong = await client.discovery(new URL(w.issuer), 'moodle', undefined, client.ClientSecretBasic('not-the-secret-0123456789'), {
      execute: [client.allowInsecureRequests],
    });
    await assert.rejects(client.refreshTokenGrant(wrong, tokens.refresh_token!), oauthError('invalid_client'));

    const list = (await (await admin(w, 'GET', '/api/v1/admin/services')).json()) as { services: Array<{ id: string; source: string; clientSecret?: string }> };
    assert.deepEqual(list.services.map((s) => `${s.id}:${s.source}`), ['webmail:config', 'library:config', 'documents:config', 'moodle:api']);
    assert.ok(list.services.every((s) => s.clientSecret === undefined));

    const inConfig = await admin(w, 'DELETE', '/api/v1/admin/services/webmail');
    assert.equal(inConfig.status, 409);
    assert.equal(((await inConfig.json()) as { error: { code: string } }).error.code, 'service.in_config');
    assert.equal((await admin(w, 'DELETE', '/api/v1/admin/services/moodle')).status, 204);
    assert.equal((await admin(w, 'DELETE', '/api/v1/admin/services/moodle')).status, 404);
    // A deleted service stops at once.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_client'));
    assert.equal(
      (await w.t.ctx.db.kysely.selectFrom('oidc_payloads').select('id').where('client_id', '=', 'moodle').where('model', '!=', 'Session').execute()).length,
      0,
      'nothing issued to the deleted service is kept',
    );

    // Registered again under the same id, it inherits nothing: the old tokens stay dead.
    const again = await admin(w, 'POST', '/api/v1/admin/services', {
      id: 'moodle',
      name: 'Moodle',
      redirectUris: [`${w.rp.base}/moodle/cb`],
      populations: ['student'],
    });
    assert.equal(again.status, 201);
    const secret2 = ((await again.json()) as { clientSecret: string }).clientSecret;
    const config2 = await client.discovery(new URL(w.issuer), 'moodle', undefined, client.ClientSecretBasic(secret2), { execute: [client.allowInsecureRequests] });
    await assert.rejects(client.refreshTokenGrant(config2, tokens.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(config2, tokens.access_token, tokens.claims()!.sub), (e: unknown) => (e as { status?: number }).status === 401);
    assert.equal((await admin(w, 'DELETE', '/api/v1/admin/services/moodle')).status, 204);
  });

  it('refuses a service whose logout or key address is not http(s), names a missing name as required, and answers 415 to plain text', async () => {
    const base = { name: 'Biblioteca', redirectUris: ['https://biblio.example.org/cb'], populations: ['student'] };
    for (const [key, uri] of [
      ['backchannelLogoutUri', 'javascript:alert(1)'],
      ['backchannelLogoutUri', 'file:///etc/passwd'],
      ['jwksUri', 'ftp://biblio.example.org/jwks'],
    ] as const) {
      const r = await admin(w, 'POST', '/api/v1/admin/services', { id: 'biblio', ...base, [key]: uri });
      assert.equal(r.status, 422, uri);
      assert.deepEqual(((await r.json()) as { error: { fields: Record<string, string> } }).error.fields, { [key]: 'field.invalid' }, uri);
    }
    const { name: _name, ...nameless } = base;
    const missing = await admin(w, 'POST', '/api/v1/admin/services', { id: 'biblio', ...nameless });
    assert.deepEqual(((await missing.json()) as { error: { fields: Record<string, string> } }).error.fields, { name: 'field.required' });
    const plain = await fetch(`${w.issuer}/api/v1/admin/services`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain', 'accept-language': 'it' },
      body: JSON.stringify({ id: 'biblio', ...base }),
    });
    assert.equal(plain.status, 415);
    assert.equal(((await plain.json()) as { error: { code: string } }).error.code, 'request.unsupported_media_type');
    const listed = (await (await admin(w, 'GET', '/api/v1/admin/services')).json()) as { services: Array<{ id: string }> };
    assert.ok(!listed.services.some((x) => x.id === 'biblio'));
  });

  it('changing the password ends the single sign-on sessions and revokes refresh tokens', async () => {
    await seedPerson(w, 'S300002');
    const config = await rpConfig(w, 'webmail');
    const other = await signIn(w, config, 'webmail', 'S300002');
    const mine = await signIn(w, config, 'webmail', 'S300002');
    await deliverLogoutNotices(w);
    const sent = w.rp.logoutTokens.length;
    // The password change, through the real form in the second browser.
    await mine.b.get(`${w.issuer}/flows/password-change`);
    await mine.b.submit({ currentPassword: PASSWORD, newPassword: 'Brand-New-Path-77', newPasswordConfirm: 'Brand-New-Path-77' }, { action: 'submit' });
    assert.match(mine.b.text(), /Password changed|Password modificata|Ο κωδικός/i);
    for (const t of [other.tokens, mine.tokens]) {
      await assert.rejects(client.refreshTokenGrant(config, t.refresh_token!), oauthError('invalid_grant'));
      await assert.rejects(client.fetchUserInfo(config, t.access_token, t.claims()!.sub), (e: unknown) => (e as { status?: number }).status === 401);
    }
    // The other browser's single sign-on is over: the login page again.
    const again = await authorize(w, config, 'webmail');
    await other.b.get(again.url);
    assert.match(other.b.url, /\/flows\/login\//);
    // Webmail is told of both sessions by back-channel logout, each by the sid of its ID token.
    assert.equal((await deliverLogoutNotices(w)).sent, 2);
    const told = await Promise.all(w.rp.logoutTokens.slice(sent).map((t) => verifyLogoutToken(w, t, 'webmail')));
    assert.deepEqual(told.map((n) => n.sid).sort(), [other.tokens.claims()!.sid, mine.tokens.claims()!.sid].sort());
    assert.ok(told.every((n) => n.sub === mine.tokens.claims()!.sub));
  });

  it('resetting a forgotten password ends the single sign-on sessions and revokes every token', async () => {
    await seedAccount(w.t.ctx, { externalId: 'S300005', population: 'student', status: 'active', password: PASSWORD, email: 'S300005@studenti.unidemo.example.org', personalEmail: 's300005@example.org' });
    const config = await rpConfig(w, 'webmail');
    const { tokens } = await signIn(w, config, 'webmail', 'S300005');
    await deliverLogoutNotices(w);
    const c = apiClient(w.t.app);
    const f = (await c.start('password-reset')).body;
    await c.submit('password-reset', f.id, { identifier: 'S300005' });
    const code = /\b(\d{6})\b/.exec((await lastMessage(w.t.ctx, 's300005@example.org', 'password_reset'))!.text)![1]!;
    assert.equal((await c.submit('password-reset', f.id, { code })).body.state, 'awaiting_password');
    assert.equal((await c.submit('password-reset', f.id, { password: 'Reset-New-Path-88', passwordConfirm: 'Reset-New-Path-88' })).body.state, 'completed');
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub), (e: unknown) => (e as { status?: number }).status === 401);
    const sent = w.rp.logoutTokens.length;
    assert.equal((await deliverLogoutNotices(w)).sent, 1);
    assert.equal((await verifyLogoutToken(w, w.rp.logoutTokens[sent]!, 'webmail')).sid, tokens.claims()!.sid);
  });

  it('suspending an account ends its single sign-on sessions and revokes its refresh tokens', async () => {
    const { accountId } = await seedPerson(w, 'S300003');
    const config = await rpConfig(w, 'webmail');
    const { tokens, b } = await signIn(w, config, 'webmail', 'S300003');
    const before = await w.t.ctx.db.kysely.selectFrom('oidc_payloads').select('model').where('account_id', '=', accountId).execute();
    assert.ok(before.some((r) => r.model === 'Session') && before.some((r) => r.model === 'RefreshToken'));
    const account = (await findAccountById(w.t.ctx.db.kysely, accountId))!;
    await w.t.ctx.db.kysely.transaction().execute((tx) =>
      transitionAccount(tx, account, 'suspended', { actor: 'admin:test', reason: 'test', at: w.t.ctx.clock.now(), provisioning: w.t.ctx }),
    );
    assert.equal((await w.t.ctx.db.kysely.selectFrom('oidc_payloads').select('model').where('account_id', '=', accountId).execute()).length, 0);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
    // Webmail's own session of the person ends too: it is told by back-channel logout.
    const sent = w.rp.logoutTokens.length;
    assert.equal((await deliverLogoutNotices(w)).sent, 1);
    assert.equal((await verifyLogoutToken(w, w.rp.logoutTokens[sent]!, 'webmail')).sid, tokens.claims()!.sid);
    const again = await authorize(w, config, 'webmail');
    await b.get(again.url);
    assert.match(b.url, /\/flows\/login\//, 'no pass-through for a suspended account');
  });

  it('signing keys: generated once, stored sealed, rotated with the previous key still published', async () => {
    const rows = await w.t.ctx.db.kysely.selectFrom('oidc_keys').selectAll().execute();
    assert.deepEqual(rows.map((r) => r.alg).sort(), ['ES256', 'RS256']);
    assert.ok(rows.every((r) => r.sealed_jwk.startsWith('v1.') && !r.sealed_jwk.includes('"d"')));
    const jwks = async () => ((await (await fetch(`${w.issuer}/oidc/jwks`)).json()) as { keys: Array<{ kid: string; d?: string }> }).keys;
    const published = await jwks();
    assert.deepEqual(published.map((k) => k.kid).sort(), rows.map((r) => r.kid).sort());
    assert.ok(published.every((k) => k.d === undefined), 'only public keys are published');

    const config = await rpConfig(w, 'webmail');
    await seedPerson(w, 'S300004');
    const old = await signIn(w, config, 'webmail', 'S300004');
    const r = await rotateSigningKeys(w.t.ctx);
    assert.equal(r.created.length, 2);
    // Servers notice a rotation within a minute; this one is told at once.
    const { forgetProvider } = await import('../../src/oidc/provider.js');
    forgetProvider(w.t.ctx);
    const after = (await jwks()).map((k) => k.kid);
    assert.ok(r.created.every((k) => after.includes(k)) && r.retired.every((k) => after.includes(k)), 'old and new keys published');
    const kidOf = (t: { id_token?: string }) => (JSON.parse(Buffer.from(t.id_token!.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    // Published first: until every server publishes them, the new keys do not sign.
    const meanwhile = await signIn(w, config, 'webmail', 'S300004', old.b);
    assert.ok(r.retired.includes(kidOf(meanwhile.tokens)), 'tokens are still signed with the current key');
    w.t.clock.advance(3 * 60_000);
    forgetProvider(w.t.ctx);
    const fresh = await signIn(w, config, 'webmail', 'S300004', old.b);
    assert.ok(r.created.includes(kidOf(fresh.tokens)), 'new tokens are signed with the new key');
    assert.ok(r.retired.every((k) => after.includes(k)), 'the old keys stay published');
    // After the overlap the old key is dropped.
    w.t.clock.advance(8 * 24 * 3_600_000);
    forgetProvider(w.t.ctx);
    const later = (await jwks()).map((k) => k.kid);
    assert.ok(r.retired.every((k) => !later.includes(k)));
  });
});
