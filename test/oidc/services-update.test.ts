import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { ADMIN_TOKEN } from '../helpers/app.js';
import {
  admin,
  authorize,
  browserFor,
  deliverLogoutNotices,
  oauthError,
  PASSWORD,
  SECRET,
  secondInstance,
  seedPerson,
  signIn,
  startWorld,
  verifyLogoutToken,
  type OidcWorld,
} from './harness.js';

type ErrorBody = { error: { code: string; message: string; fields: Record<string, string> } };
type ServiceView = Record<string, unknown> & { id: string; clientSecret?: unknown };

const body = async <T>(r: Response) => (await r.json()) as T;

/** openid-client's view of the provider for a service authenticating with this secret. */
const withSecret = (w: OidcWorld, id: string, secret: string) =>
  client.discovery(new URL(w.issuer), id, undefined, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });

/** The token introspection endpoint of one instance, called as the service with this secret. */
const introspect = (base: string, id: string, secret: string, token: string) =>
  fetch(`${base}/oidc/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });

describe('campus services: changing one, rotating its secret', () => {
  let w: OidcWorld;
  before(async () => {
    w = await startWorld();
  });
  after(() => w.close());

  const register = async (service: Record<string, unknown>) => {
    const r = await admin(w, 'POST', '/api/v1/admin/services', service);
    assert.equal(r.status, 201, JSON.stringify(await r.clone().json()));
    return body<{ clientId: string; clientSecret?: string; service: ServiceView }>(r);
  };
  const listed = async (id: string) => (await body<{ services: ServiceView[] }>(await admin(w, 'GET', '/api/v1/admin/services'))).services.find((s) => s.id === id);
  const auditOf = async (id: string) =>
    (await w.t.ctx.db.kysely.selectFrom('audit_log').select(['actor', 'action', 'details']).where('action', 'like', 'service.%').orderBy('id').execute())
      .map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }))
      .filter((r) => r.details.id === id);

  it('changes each kind of field, answers the service as listed (never its secret), and audits each change', async () => {
    const created = await register({ id: 'moodle', name: 'Moodle', redirectUris: [`${w.rp.base}/moodle/cb`], populations: ['student'] });
    const patch = async (change: Record<string, unknown>) => {
      const r = await admin(w, 'PATCH', '/api/v1/admin/services/moodle', change);
      assert.equal(r.status, 200, JSON.stringify(change));
      const view = await body<ServiceView>(r);
      assert.equal(view.clientSecret, undefined);
      assert.deepEqual(view, await listed('moodle'), 'the answer is the service as listed');
      return view;
    };

    assert.deepEqual((await patch({ name: { en: 'Moodle', it: 'Moodle di ateneo', el: 'Moodle' } })).name, { en: 'Moodle', it: 'Moodle di ateneo', el: 'Moodle' });
    const many = await patch({
      redirectUris: [`${w.rp.base}/moodle/cb`, `${w.rp.base}/moodle/cb2`],
      postLogoutRedirectUris: [`${w.rp.base}/moodle/bye`],
      populations: ['student', 'staff'],
      firstParty: false,
      backchannelLogoutUri: `${w.rp.base}/backchannel`,
    });
    assert.deepEqual(many, {
      ...created.service,
      name: { en: 'Moodle', it: 'Moodle di ateneo', el: 'Moodle' },
      redirectUris: [`${w.rp.base}/moodle/cb`, `${w.rp.base}/moodle/cb2`],
      postLogoutRedirectUris: [`${w.rp.base}/moodle/bye`],
      populations: ['student', 'staff'],
      firstParty: false,
      backchannelLogoutUri: `${w.rp.base}/backchannel`,
    });
    // null removes an optional address.
    assert.equal((await patch({ backchannelLogoutUri: null })).backchannelLogoutUri, undefined);
    // The same values again change nothing (and are not audited).
    await patch({ firstParty: false });

    // The provider sees the change: the service now asks for consent (it is no longer first-party).
    await seedPerson(w, 'S610001');
    const config = await withSecret(w, 'moodle', created.clientSecret!);
    const req = await authorize(w, config, 'moodle');
    const b = browserFor(w);
    await b.get(req.url);
    await b.submit({ username: 'S610001', password: PASSWORD }, { action: 'submit' });
    assert.equal(b.stoppedAt, null);
    assert.match(b.html, /\/confirm"/, 'the consent page');

    const entries = await auditOf('moodle');
    assert.deepEqual(
      entries.map((e) => e.action),
      ['service.registered', 'service.updated', 'service.updated', 'service.updated'],
    );
    assert.ok(entries.every((e) => e.actor.startsWith('admin:')));
    assert.deepEqual(entries[3]!.details, { id: 'moodle', changes: { backchannelLogoutUri: { from: `${w.rp.base}/backchannel`, to: null } } });
    assert.deepEqual(Object.keys(entries[2]!.details.changes as object).sort(), ['backchannelLogoutUri', 'firstParty', 'populations', 'postLogoutRedirectUris', 'redirectUris']);
    assert.deepEqual((entries[2]!.details.changes as Record<string, unknown>).populations, { from: ['student'], to: ['student', 'staff'] });
  });

  it('changes the authentication method: the secret follows it, and a private_key_jwt service needs its keys', async () => {
    const created = await register({ id: 'forum', name: 'Forum', redirectUris: [`${w.rp.base}/forum/cb`], populations: ['student'] });
    const secretOf = async () => (await w.t.ctx.db.kysely.selectFrom('oidc_services').select('sealed_secret').where('id', '=', 'forum').executeTakeFirstOrThrow()).sealed_secret;
    assert.ok(await secretOf());

    const noKeys = await admin(w, 'PATCH', '/api/v1/admin/services/forum', { tokenEndpointAuthMethod: 'private_key_jwt' });
    assert.equal(noKeys.status, 422);
    assert.deepEqual((await body<ErrorBody>(noKeys)).error.fields, { jwksUri: 'field.required' });

    const keyed = await admin(w, 'PATCH', '/api/v1/admin/services/forum', { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `${w.rp.base}/jwks` });
    assert.equal(keyed.status, 200);
    assert.deepEqual(await body<ServiceView>(keyed), { ...created.service, tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `${w.rp.base}/jwks` });
    assert.equal(await secretOf(), null, 'the secret is dropped');
    // Its keys cannot be removed while it signs with them.
    const unkeyed = await admin(w, 'PATCH', '/api/v1/admin/services/forum', { jwksUri: null });
    assert.deepEqual((await body<ErrorBody>(unkeyed)).error.fields, { jwksUri: 'field.required' });

    // The old secret stops working: a refresh with it is refused.
    await seedPerson(w, 'S610002');
    const pkj = await client.discovery(new URL(w.issuer), 'forum', undefined, client.PrivateKeyJwt({ key: w.rp.privateKey, kid: 'rp-1' }, { [client.modifyAssertion]: (h) => void (h.kid = 'rp-1') }), {
      execute: [client.allowInsecureRequests],
    });
    const { tokens } = await signIn(w, pkj, 'forum', 'S610002');
    await assert.rejects(client.refreshTokenGrant(await withSecret(w, 'forum', created.clientSecret!), tokens.refresh_token!), oauthError('invalid_client'));

    // Public client: no secret; back to client_secret_basic: a secret nobody has seen, until rotated.
    const pub = await admin(w, 'PATCH', '/api/v1/admin/services/forum', { tokenEndpointAuthMethod: 'none', jwksUri: null });
    assert.equal(pub.status, 200);
    assert.equal((await body<ServiceView>(pub)).jwksUri, undefined);
    const back = await admin(w, 'PATCH', '/api/v1/admin/services/forum', { tokenEndpointAuthMethod: 'client_secret_basic' });
    assert.equal(back.status, 200);
    assert.equal((await body<ServiceView>(back)).clientSecret, undefined);
    assert.ok(await secretOf());
    const rotated = await body<{ clientId: string; clientSecret: string }>(await admin(w, 'POST', '/api/v1/admin/services/forum/secret'));
    const { tokens: again } = await signIn(w, await withSecret(w, 'forum', rotated.clientSecret), 'forum', 'S610002');
    assert.equal(again.claims()!.aud, 'forum');
  });

  it('refuses an invalid change with the fields named, and changes nothing; 404 for an unknown service, 409 for one of the configuration file', async () => {
    await register({ id: 'agenda', name: 'Agenda', redirectUris: [`${w.rp.base}/agenda/cb`], populations: ['staff'], backchannelLogoutUri: `${w.rp.base}/backchannel` });
    const row = () => w.t.ctx.db.kysely.selectFrom('oidc_services').selectAll().where('id', '=', 'agenda').executeTakeFirstOrThrow();
    const stored = await row();
    const before = await listed('agenda');
    const audited = (await auditOf('agenda')).length;

    const cases: Array<[unknown, Record<string, string>]> = [
      [{}, { body: 'field.required' }],
      [{ id: 'agenda2' }, { id: 'field.read_only' }],
      [{ protocol: 'oidc', name: 'Agenda 2' }, { protocol: 'field.read_only' }],
      [{ colour: 'red', clientSecret: 'a-secret-of-my-choosing-0123', source: 'api' }, { colour: 'field.unknown', clientSecret: 'field.unknown', source: 'field.unknown' }],
      [{ name: 'Agenda 2', redirectUris: [] }, { redirectUris: 'field.invalid' }],
      [{ redirectUris: ['javascript:alert(1)'] }, { redirectUris: 'field.invalid' }],
      [{ redirectUris: [`${w.rp.base}/agenda/cb#x`] }, { redirectUris: 'field.invalid' }],
      [{ postLogoutRedirectUris: Array.from({ length: 21 }, (_, i) => `${w.rp.base}/bye${i}`) }, { postLogoutRedirectUris: 'field.invalid' }],
      [{ name: 'A'.repeat(5000) }, { name: 'field.too_long' }],
      [{ name: null, populations: [] }, { name: 'field.invalid', populations: 'field.invalid' }],
      [{ populations: ['aliens'] }, { populations: 'field.invalid' }],
      [{ firstParty: 'yes' }, { firstParty: 'field.invalid' }],
      [{ tokenEndpointAuthMethod: 'client_secret_jwt' }, { tokenEndpointAuthMethod: 'field.invalid' }],
      [{ backchannelLogoutUri: 'file:///etc/passwd' }, { backchannelLogoutUri: 'field.invalid' }],
    ];
    for (const [change, fields] of cases) {
      const r = await admin(w, 'PATCH', '/api/v1/admin/services/agenda', change);
      assert.equal(r.status, 422, JSON.stringify(change));
      const e = (await body<ErrorBody>(r)).error;
      assert.equal(e.code, 'validation.failed');
      assert.deepEqual(e.fields, fields, JSON.stringify(change));
    }
    const list = await admin(w, 'PATCH', '/api/v1/admin/services/agenda', [{ name: 'x' }]);
    assert.equal(list.status, 400);
    assert.equal((await body<ErrorBody>(list)).error.code, 'request.invalid');
    const plain = await fetch(`${w.issuer}/api/v1/admin/services/agenda`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ name: 'x' }),
    });
    assert.equal(plain.status, 415);
    const anonymous = await fetch(`${w.issuer}/api/v1/admin/services/agenda`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    assert.equal(anonymous.status, 401);

    assert.deepEqual(await row(), stored, 'nothing changed');
    assert.deepEqual(await listed('agenda'), before);
    assert.equal((await auditOf('agenda')).length, audited, 'nothing audited');

    for (const [method, path] of [
      ['PATCH', '/api/v1/admin/services/nothing-here'],
      ['POST', '/api/v1/admin/services/nothing-here/secret'],
    ] as const) {
      const r = await admin(w, method, path, method === 'PATCH' ? { name: 'x' } : undefined);
      assert.equal(r.status, 404, path);
      const e = (await body<ErrorBody>(r)).error;
      assert.equal(e.code, 'service.not_found');
      assert.equal(e.message, 'Servizio inesistente.');
    }
    const webmail = await listed('webmail');
    for (const [method, path] of [
      ['PATCH', '/api/v1/admin/services/webmail'],
      ['POST', '/api/v1/admin/services/webmail/secret'],
    ] as const) {
      const r = await admin(w, method, path, method === 'PATCH' ? { populations: ['staff'] } : undefined);
      assert.equal(r.status, 409, path);
      assert.equal((await body<ErrorBody>(r)).error.code, 'service.in_config');
    }
    assert.deepEqual(await listed('webmail'), webmail);
  });

  it('a changed redirect URI: the old one is refused and the new one works in a code flow, at once on every instance', async () => {
    const other = await secondInstance(w);
    try {
      const created = await register({ id: 'wiki', name: 'Wiki', redirectUris: [`${w.rp.base}/wiki/cb`], populations: ['student'] });
      await seedPerson(w, 'S610003');
      const config = await withSecret(w, 'wiki', created.clientSecret!);
      // Both instances have served the service (the provider's clients are built and kept).
      const { b } = await signIn(w, config, 'wiki', 'S610003');
      const atOther = async (redirectUri: string) => {
        const req = await authorize(w, config, 'wiki', { redirect_uri: redirectUri });
        const url = new URL(req.url);
        return fetch(`${other.base}${url.pathname}${url.search}`, { redirect: 'manual' });
      };
      assert.equal((await atOther(`${w.rp.base}/wiki/cb`)).status, 303);

      const r = await admin(w, 'PATCH', '/api/v1/admin/services/wiki', { redirectUris: [`${w.rp.base}/wiki/callback`] });
      assert.equal(r.status, 200);
      assert.deepEqual((await body<ServiceView>(r)).redirectUris, [`${w.rp.base}/wiki/callback`]);

      // The old address is refused (the provider's error page, no way back to it)…
      const old = await authorize(w, config, 'wiki');
      await b.get(old.url);
      assert.equal(b.stoppedAt, null);
      assert.equal(b.status, 400);
      assert.match(b.text(), /invalid_redirect_uri/);
      const oldAtOther = await atOther(`${w.rp.base}/wiki/cb`);
      assert.equal(oldAtOther.status, 400);
      assert.match(await oldAtOther.text(), /invalid_redirect_uri/);
      // …the new one works, in a code flow (single sign-on: the person is still signed in).
      const req = await authorize(w, config, 'wiki', { redirect_uri: `${w.rp.base}/wiki/callback` });
      await b.get(req.url);
      assert.ok(String(b.stoppedAt).startsWith(`${w.rp.base}/wiki/callback?`), String(b.stoppedAt));
      const tokens = await client.authorizationCodeGrant(config, new URL(b.stoppedAt!), { pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state });
      assert.equal(tokens.claims()!.aud, 'wiki');
      assert.equal((await atOther(`${w.rp.base}/wiki/callback`)).status, 303);
    } finally {
      await other.close();
    }
  });

  it('rotating the secret: shown once, the old one refused at the token endpoint at once (on every instance), the new one accepted', async () => {
    const other = await secondInstance(w);
    try {
      const created = await register({ id: 'thesis', name: 'Thesis', redirectUris: [`${w.rp.base}/thesis/cb`], populations: ['student'] });
      await seedPerson(w, 'S610004');
      const oldConfig = await withSecret(w, 'thesis', created.clientSecret!);
      const { tokens } = await signIn(w, oldConfig, 'thesis', 'S610004');
      assert.equal((await introspect(other.base, 'thesis', created.clientSecret!, tokens.access_token)).status, 200);

      const r = await admin(w, 'POST', '/api/v1/admin/services/thesis/secret');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const rotated = await body<{ clientId: string; clientSecret: string }>(r);
      assert.deepEqual(Object.keys(rotated).sort(), ['clientId', 'clientSecret']);
      assert.equal(rotated.clientId, 'thesis');
      assert.ok(rotated.clientSecret.length >= 40 && rotated.clientSecret !== created.clientSecret);

      await assert.rejects(client.refreshTokenGrant(oldConfig, tokens.refresh_token!), oauthError('invalid_client'));
      assert.equal((await introspect(other.base, 'thesis', created.clientSecret!, tokens.access_token)).status, 401);
      const newConfig = await withSecret(w, 'thesis', rotated.clientSecret);
      const refreshed = await client.refreshTokenGrant(newConfig, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      assert.equal((await introspect(other.base, 'thesis', rotated.clientSecret, refreshed.access_token)).status, 200);
      // Grants survive a rotation; the new secret signs people in.
      const { tokens: fresh } = await signIn(w, newConfig, 'thesis', 'S610004');
      assert.equal(fresh.claims()!.aud, 'thesis');

      const entries = await auditOf('thesis');
      assert.deepEqual(entries.map((e) => [e.action, e.details]), [
        ['service.registered', { id: 'thesis', populations: ['student'] }],
        ['service.secret_rotated', { id: 'thesis' }],
      ]);
      const everything = JSON.stringify(await w.t.ctx.db.kysely.selectFrom('audit_log').selectAll().execute());
      assert.ok(!everything.includes(created.clientSecret!) && !everything.includes(rotated.clientSecret), 'no secret in the audit log');
      const stored = await w.t.ctx.db.kysely.selectFrom('oidc_services').selectAll().where('id', '=', 'thesis').executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(stored).includes(rotated.clientSecret), 'the secret is not stored in clear');
    } finally {
      await other.close();
    }

    // A service without a client secret has none to rotate.
    await register({ id: 'campus-app', name: 'Campus app', redirectUris: [`${w.rp.base}/campus-app/cb`], populations: ['student'], tokenEndpointAuthMethod: 'none' });
    await register({ id: 'keyed', name: 'Keyed', redirectUris: [`${w.rp.base}/keyed/cb`], populations: ['student'], tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `${w.rp.base}/jwks` });
    for (const id of ['campus-app', 'keyed']) {
      const r = await admin(w, 'POST', `/api/v1/admin/services/${id}/secret`);
      assert.equal(r.status, 409, id);
      const e = (await body<ErrorBody>(r)).error;
      assert.equal(e.code, 'service.no_client_secret');
      assert.equal(e.message, 'Questo servizio non ha un segreto client da rinnovare: è un client pubblico o si autentica con private_key_jwt.');
      assert.equal((await w.t.ctx.db.kysely.selectFrom('oidc_services').select('sealed_secret').where('id', '=', id).executeTakeFirstOrThrow()).sealed_secret, null);
    }
  });

  it('narrowing the populations: a person no longer admitted gets access_denied, not a token; the others keep theirs', async () => {
    const created = await register({
      id: 'lab',
      name: 'Lab',
      redirectUris: [`${w.rp.base}/lab/cb`],
      populations: ['student', 'staff'],
      backchannelLogoutUri: `${w.rp.base}/backchannel`,
    });
    await seedPerson(w, 'S610005');
    await seedPerson(w, 'D610005', 'staff');
    const config = await withSecret(w, 'lab', created.clientSecret!);
    const student = await signIn(w, config, 'lab', 'S610005');
    const staff = await signIn(w, config, 'lab', 'D610005');
    // Webmail (another service) stays the student's.
    const webmail = await withSecret(w, 'webmail', SECRET);
    const mail = await signIn(w, webmail, 'webmail', 'S610005', student.b);
    await deliverLogoutNotices(w);
    const told = w.rp.logoutTokens.length;

    const r = await admin(w, 'PATCH', '/api/v1/admin/services/lab', { populations: ['staff'] });
    assert.equal(r.status, 200);
    assert.deepEqual((await body<ServiceView>(r)).populations, ['staff']);

    // The student's tokens stop at once: no new token by refresh, no claims by userinfo.
    await assert.rejects(client.refreshTokenGrant(config, student.tokens.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(config, student.tokens.access_token, student.tokens.claims()!.sub), (e: unknown) => (e as { status?: number }).status === 401);
    // Signed in already (single sign-on), the student gets the refusal page; its link, access_denied.
    const again = await authorize(w, config, 'lab');
    await student.b.get(again.url);
    assert.equal(student.b.status, 403);
    assert.equal(student.b.stoppedAt, null);
    assert.match(student.b.html, /data-code="access.service_not_available"/);
    assert.match(student.b.text(), /This service is not available to your profile\./);
    const back = /<a class="button[^"]*" href="([^"]+)"/.exec(student.b.html)![1]!.replace(/&amp;/g, '&');
    await student.b.get(new URL(back, w.issuer).href);
    const cb = new URL(student.b.stoppedAt!);
    assert.equal(cb.searchParams.get('error'), 'access_denied');
    assert.equal(cb.searchParams.get('state'), again.state);
    assert.equal(cb.searchParams.get('code'), null);
    // Without an interaction (prompt=none): access_denied straight away.
    const silent = await authorize(w, config, 'lab', { prompt: 'none' });
    await student.b.get(silent.url);
    const silentBack = new URL(student.b.stoppedAt!);
    assert.equal(silentBack.searchParams.get('error'), 'access_denied');
    assert.equal(silentBack.searchParams.get('code'), null);
    // The lab is told the student's session there is over (back-channel logout); webmail is not.
    assert.equal((await deliverLogoutNotices(w)).sent, 1);
    const notice = await verifyLogoutToken(w, w.rp.logoutTokens[told]!, 'lab');
    assert.equal(notice.sid, student.tokens.claims()!.sid);
    assert.ok((await client.refreshTokenGrant(webmail, mail.tokens.refresh_token!)).access_token);

    // Staff keep their grant and sign in as before.
    const refreshed = await client.refreshTokenGrant(config, staff.tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    const { tokens } = await signIn(w, config, 'lab', 'D610005', staff.b);
    assert.equal(tokens.claims()!.aud, 'lab');

    const entries = await auditOf('lab');
    assert.deepEqual(entries.at(-1)!.details, { id: 'lab', changes: { populations: { from: ['student', 'staff'], to: ['staff'] } }, grantsEnded: 1 });
  });

  it('an account that comes to be of a population the service does not admit gets no new token and no claims', async () => {
    const created = await register({ id: 'archive', name: 'Thesis archive', redirectUris: [`${w.rp.base}/archive/cb`], populations: ['student'] });
    const { personId } = await seedPerson(w, 'S610006');
    const config = await withSecret(w, 'archive', created.clientSecret!);
    const { tokens } = await signIn(w, config, 'archive', 'S610006');
    const sub = tokens.claims()!.sub;
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, sub)).sub, sub);
    // The account's record comes to be of the external population (corrected by the registrar's office).
    await w.t.ctx.db.kysely.updateTable('persons').set({ population: 'external' }).where('id', '=', personId).execute();
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), oauthError('invalid_grant'));
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, sub), (e: unknown) => (e as { status?: number }).status === 401);
    // Back among the students (a new enrolment), the same grant works again.
    await w.t.ctx.db.kysely.updateTable('persons').set({ population: 'student' }).where('id', '=', personId).execute();
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, sub)).sub, sub);
  });
});
