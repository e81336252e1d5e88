import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createContext } from '../../src/app/container.js';
import { ConfigError, readEnv } from '../../src/config/env.js';
import { spidSchema, type SpidConfig } from '../../src/config/spid-schema.js';
import { buildSpMetadata } from '../../src/spid/sp-metadata.js';
import { certBodyOf } from '../../src/spid/sp-keys.js';
import { initSpid } from '../../src/spid/runtime.js';
import { freshDb, makeApp, testConfig } from '../helpers/app.js';
import { makeKeys, TestIdp } from './test-idp.js';
import { dataDir, spidSection } from './harness.js';

/** initSpid in production with `spid`; resolves to the ConfigError's key, or null. */
async function productionKeyError(spid: SpidConfig): Promise<string | null> {
  const { db, drop } = await freshDb();
  try {
    const env = readEnv({ NODE_ENV: 'production', TESSERA_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://login.example.org', LOG_LEVEL: 'silent', TESSERA_DATA_DIR: dataDir });
    const ctx = await createContext({ env, config: testConfig((c) => void (c.spid = spid)), db, logLevel: 'silent' });
    try {
      await initSpid(ctx);
      return null;
    } catch (e) {
      if (e instanceof ConfigError) return e.key;
      throw e;
    }
  } finally {
    await drop();
  }
}

describe('SPID configuration', () => {
  it('requires in production the key and certificate files, and the registry certificate for identity providers', async () => {
    assert.equal(await productionKeyError(spidSection()), 'spid.keyFile');
    const sp = await makeKeys('login.example.org');
    const idp = await TestIdp.create();
    const keyFile = join(idp.dir, 'sp-key.pem');
    const certFile = join(idp.dir, 'sp-cert.pem');
    writeFileSync(keyFile, sp.key);
    writeFileSync(certFile, sp.cert);
    const withKeys = spidSection({ keyFile, certFile, idps: [idp.writeMetadata()] });
    assert.equal(await productionKeyError(withKeys), 'spid.registry.certificateFile');
    const registry = await makeKeys('registry.example');
    const registryFile = join(idp.dir, 'registry.pem');
    writeFileSync(registryFile, registry.cert);
    assert.equal(await productionKeyError({ ...withKeys, idps: [idp.writeMetadata({ registry })], registry: { certificateFile: registryFile } }), null);
    // A key that does not match its certificate is refused.
    const other = await makeKeys('other.example');
    const otherKey = join(idp.dir, 'other-key.pem');
    writeFileSync(otherKey, other.key);
    assert.equal(await productionKeyError({ ...withKeys, keyFile: otherKey }), 'spid.keyFile');
  });
  it('turns SPID on outside production with SPID_IDP_METADATA alone, the SP named after the institution', async () => {
    const idp = await TestIdp.create();
    const t = await makeApp({ env: { SPID_IDP_METADATA: idp.writeMetadata(), TESSERA_DATA_DIR: dataDir } });
    try {
      const meta = await t.app.inject({ method: 'GET', url: '/spid/metadata' });
      assert.equal(meta.statusCode, 200);
      assert.match(meta.body, /<md:OrganizationName xml:lang="it">Università Demo<\/md:OrganizationName>/);
      assert.match(meta.body, /<spid:IPACode>demo<\/spid:IPACode>/);
      const login = await t.app.inject({ method: 'GET', url: '/flows/login' });
      const page = await t.app.inject({ method: 'GET', url: String(login.headers.location), headers: { cookie: login.cookies.map((c) => `${c.name}=${c.value}`).join('; '), 'accept-language': 'it' } });
      assert.match(page.body, /Entra con SPID/);
      assert.match(page.body, /Test ID/);
    } finally {
      await t.close();
    }
  });
  it('shows no SPID button and no SPID routes when SPID is not configured', async () => {
    const t = await makeApp();
    try {
      const login = await t.app.inject({ method: 'GET', url: '/flows/login' });
      const page = await t.app.inject({ method: 'GET', url: String(login.headers.location), headers: { cookie: login.cookies.map((c) => `${c.name}=${c.value}`).join('; ') } });
      assert.equal(page.statusCode, 200);
      assert.doesNotMatch(page.body, /spid/i);
      assert.equal((await t.app.inject({ method: 'GET', url: '/spid/metadata' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});


describe('SPID service provider metadata for a private provider', () => {
  it('carries VATNumber/FiscalCode and Private instead of IPACode and Public', async () => {
    const keys = await makeKeys('sp.example');
    const cfg = spidSection({ contact: { public: false, vatNumber: 'IT12345678901', fiscalCode: '12345678901', email: 'spid@example.com' } });
    const xml = buildSpMetadata(cfg, { entityId: 'https://sp.example', acsUrl: 'https://sp.example/spid/acs', sloUrl: 'https://sp.example/spid/slo' }, { ...keys, certBody: certBodyOf(keys.cert) }, '_m1');
    assert.match(xml, /<md:Extensions><spid:VATNumber>IT12345678901<\/spid:VATNumber><spid:FiscalCode>12345678901<\/spid:FiscalCode><spid:Private\/><\/md:Extensions>/);
    assert.doesNotMatch(xml, /IPACode|spid:Public/);
  });
  it('refuses a public provider without IPACode and a private one without VAT number or fiscal code', () => {
    const base = { organization: { name: 'X', displayName: 'X', url: 'https://x.example/' } };
    const pub = spidSchema.safeParse({ ...base, contact: { public: true, email: 'a@x.example' } });
    assert.equal(pub.success, false);
    assert.deepEqual(pub.error?.issues[0]?.path, ['contact', 'ipaCode']);
    const priv = spidSchema.safeParse({ ...base, contact: { public: false, email: 'a@x.example' } });
    assert.equal(priv.success, false);
    assert.deepEqual(priv.error?.issues[0]?.path, ['contact', 'vatNumber']);
    const noCf = spidSchema.safeParse({ ...base, contact: { public: true, ipaCode: 'x', email: 'a@x.example' }, attributes: ['name'] });
    assert.equal(noCf.success, false);
  });
});
