import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import * as client from 'openid-client';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { details, verificationLink } from '../registration/outbox.js';
import { PASSWORD, rpConfig, signIn, startWorld, type OidcWorld } from './harness.js';

// `email_verified` (scope email) is true only for an address Tessera assigned (the institutional
// one) or one proven by an emailed link; an address stored before its proof is false.
describe('single sign-on: email_verified', () => {
  let w: OidcWorld;
  let config: client.Configuration;
  before(async () => {
    w = await startWorld();
    config = await rpConfig(w, 'documents');
  });
  after(() => w.close());

  async function userinfo(username: string) {
    const { tokens } = await signIn(w, config, 'documents', username);
    return client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  }

  async function register(username: string, email: string) {
    const c = apiClient(w.t.app);
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username, email, password: PASSWORD, passwordConfirm: PASSWORD }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { c, f };
  }

  it('is in the discovery document', async () => {
    assert.ok(config.serverMetadata().claims_supported?.includes('email_verified'));
  });

  it('an institutional address assigned at activation: true', async () => {
    await seedAccount(w.t.ctx, { externalId: 'S300001', passwordHash: bcrypt.hashSync('Enrol-2026', 4) });
    const c = apiClient(w.t.app);
    const f = (await c.start('activation-password')).body;
    const r = await c.submit('activation-password', f.id, { population: 'student', username: 'S300001', currentPassword: 'Enrol-2026', newPassword: PASSWORD, newPasswordConfirm: PASSWORD });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const info = await userinfo('S300001');
    assert.equal(info.email, r.body.result.email);
    assert.equal(info.email_verified, true);
  });

  it('a registered external whose address the emailed link proved: true', async () => {
    const { c, f } = await register('giulia.ferri', 'giulia.ferri@example.org');
    const { token } = await verificationLink(w.t.ctx, 'giulia.ferri@example.org');
    assert.equal((await c.submit('registration', f.id, { token })).status, 200);
    const info = await userinfo('giulia.ferri');
    assert.equal(info.email, 'giulia.ferri@example.org');
    assert.equal(info.email_verified, true);
  });

  it('an address whose link was never opened (the account active by another way): false', async () => {
    await register('piero.galli', 'piero.galli@example.org');
    await w.t.ctx.db.kysely.updateTable('accounts').set({ status: 'active' }).where('username_lower', '=', 'piero.galli').execute();
    const info = await userinfo('piero.galli');
    assert.equal(info.email, 'piero.galli@example.org');
    assert.equal(info.email_verified, false);
  });
});
