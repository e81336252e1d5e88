import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { configWarnings, loadInstitution, parseInstitution } from '../../src/config/load-institution.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';

// In production a web service's redirect and post-logout redirect addresses are https (RFC 9700,
// OpenID Connect); http only on a loopback address. Elsewhere plain http is accepted (a test or
// staging service), and the start warns about each such address of the institution's file.
const file = (uri: string, key = 'redirectUris') =>
  `institution: {id: x, name: X, domain: x.example.org}\nservices:\n  - id: wiki\n    name: Wiki\n    redirectUris: [${key === 'redirectUris' ? uri : 'https://wiki.example.org/cb'}]\n${key === 'postLogoutRedirectUris' ? `    postLogoutRedirectUris: [${uri}]\n` : ''}    populations: [student]\n    clientSecret: wiki-secret-0123456789\n`;

{
  const env = 'production';
  describe(`campus services' redirect addresses (NODE_ENV=${env})`, () => {
    let t: TestApp;
    const saved = process.env.NODE_ENV;
    before(async () => {
      process.env.NODE_ENV = env;
      t = await makeApp({ env: { NODE_ENV: env, PUBLIC_URL: 'https://account.example.org' } });
    });
    after(async () => {
      process.env.NODE_ENV = saved;
      await t.close();
    });

    const post = (body: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: '/api/v1/admin/services', headers: adminHeaders, payload: { name: 'Wiki', populations: ['student'], ...body } });

    it('the admin API refuses plain http to another host, naming the field', async () => {
      for (const [i, body, field] of [
        [1, { redirectUris: ['http://wiki.example.org/cb'] }, 'redirectUris'],
        [2, { redirectUris: ['https://wiki.example.org/cb', 'HTTP://wiki.example.org/cb2'] }, 'redirectUris'],
        [3, { redirectUris: ['https://wiki.example.org/cb'], postLogoutRedirectUris: ['http://wiki.example.org/bye'] }, 'postLogoutRedirectUris'],
        [4, { redirectUris: ['http://127.0.0.2/cb'] }, 'redirectUris'],
        [5, { redirectUris: ['https://wiki.example.org/cb'], tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://wiki.example.org/jwks' }, 'jwksUri'],
        [6, { redirectUris: ['https://wiki.example.org/cb'], backchannelLogoutUri: 'http://wiki.example.org/logout' }, 'backchannelLogoutUri'],
      ] as const) {
        const r = await post({ id: `wiki-${i}`, ...body });
        assert.equal(r.statusCode, 422, r.body);
        assert.equal(r.json().error.code, 'validation.failed');
        assert.deepEqual(r.json().error.fields, { [field]: 'uri.https_required' }, JSON.stringify(body));
      }
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/admin/services', headers: adminHeaders })).json().services.filter((s: { id: string }) => s.id.startsWith('wiki-')).length, 0);
    });

    it('accepts https, and http on a loopback address; a change to plain http is refused', async () => {
      const ok = await post({
        id: 'wiki-ok',
        redirectUris: ['https://wiki.example.org/cb', 'http://localhost:8080/cb', 'http://127.0.0.1/cb', 'http://[::1]:9000/cb'],
        postLogoutRedirectUris: ['https://wiki.example.org/bye', 'http://localhost:8080/bye'],
      });
      assert.equal(ok.statusCode, 201, ok.body);
      const patch = (payload: Record<string, unknown>) => t.app.inject({ method: 'PATCH', url: '/api/v1/admin/services/wiki-ok', headers: adminHeaders, payload });
      const bad = await patch({ redirectUris: ['http://wiki.example.org/cb'] });
      assert.equal(bad.statusCode, 422, bad.body);
      assert.deepEqual(bad.json().error.fields, { redirectUris: 'uri.https_required' });
      const badBye = await patch({ postLogoutRedirectUris: ['http://wiki.example.org/bye'] });
      assert.deepEqual(badBye.json().error.fields, { postLogoutRedirectUris: 'uri.https_required' });
      assert.equal((await patch({ redirectUris: ['https://wiki2.example.org/cb'] })).statusCode, 200);
    });

    it('the institution’s file is refused at start, naming the key', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-redirect-'));
      try {
        const start = async (yaml: string) => {
          const path = join(dir, 'x.yaml');
          writeFileSync(path, yaml);
          const ctx = await createContext({ env: readEnv({ NODE_ENV: 'production', TESSERA_SECRET: 'redirect-secret-redirect-secret-0123456', TESSERA_CONFIG: path, DATABASE_URL: 'sqlite::memory:', TESSERA_DATA_DIR: dir }), logLevel: 'silent' });
          await ctx.db.close();
        };
        await assert.rejects(start(file('http://wiki.example.org/cb')), /x\.yaml: services\.0\.redirectUris\.0 must be an https address: http only on a loopback address/);
        await assert.rejects(start(file('http://wiki.example.org/bye', 'postLogoutRedirectUris')), /services\.0\.postLogoutRedirectUris\.0 must be an https address/);
        await assert.rejects(
          start(`institution: {id: x, name: X, domain: x.example.org}\nservices:\n  - id: wiki\n    name: Wiki\n    redirectUris: [https://wiki.example.org/cb]\n    populations: [student]\n    tokenEndpointAuthMethod: private_key_jwt\n    jwksUri: http://wiki.example.org/jwks\n`),
          /services\.0\.jwksUri must be an https address/,
        );
        await start(file('http://localhost:4000/cb'));
        await start(file('http://127.0.0.1:4000/bye', 'postLogoutRedirectUris'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('campus services\' redirect addresses outside production', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('the admin API accepts plain http (a test or staging service)', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/admin/services', headers: adminHeaders, payload: { id: 'wiki-dev', name: 'Wiki', populations: ['student'], redirectUris: ['http://wiki.example.org/cb'], postLogoutRedirectUris: ['http://wiki.example.org/bye'] } });
    assert.equal(r.statusCode, 201, r.body);
  });

  it('the institution’s file loads, and the start warns naming the key', () => {
    const config = parseInstitution(file('http://wiki.example.org/cb'), 'x.yaml');
    const warnings = configWarnings(config);
    assert.ok(warnings.some((w) => /^services\.0\.redirectUris\.0 \(http:\/\/wiki\.example\.org\/cb\) is plain http/.test(w)), warnings.join('\n'));
    assert.deepEqual(configWarnings(parseInstitution(file('https://wiki.example.org/cb'), 'x.yaml')).filter((w) => w.startsWith('services.')), []);
  });

  it('the demo institution still loads', () => {
    assert.ok(loadInstitution(undefined).config.institution.id);
  });
});
