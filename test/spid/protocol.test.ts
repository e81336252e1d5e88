import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getVerifiedXml, parseDomFromString } from '@node-saml/node-saml/lib/xml.js';
import type { TestApp } from '../helpers/app.js';
import { makeKeys, TestIdp, type KeyPair } from './test-idp.js';
import { counts, dataDir, postResponse, spidApp, specFor, startLogin } from './harness.js';

const certOf = (metadata: string) => {
  const b = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)![1]!;
  return `-----BEGIN CERTIFICATE-----\n${b.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
};

describe('SPID service provider: metadata, requests, protocol defences', () => {
  let t: TestApp;
  let idp: TestIdp;
  let metadata: string;
  before(async () => {
    idp = await TestIdp.create();
    t = await spidApp(idp);
    metadata = (await t.app.inject({ method: 'GET', url: '/spid/metadata' })).body;
  });
  after(() => t.close());

  it('publishes signed metadata with the SPID elements of a public provider', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/spid/metadata' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /application\/samlmetadata\+xml/);
    for (const needle of [
      'entityID="http://localhost:3000"',
      'AuthnRequestsSigned="true"',
      'WantAssertionsSigned="true"',
      '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://localhost:3000/spid/acs" index="0" isDefault="true"/>',
      '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://localhost:3000/spid/slo"/>',
      '<md:AttributeConsumingService index="0">',
      '<md:RequestedAttribute Name="fiscalNumber"/>',
      '<md:OrganizationName xml:lang="it">Università Demo</md:OrganizationName>',
      '<md:ContactPerson contactType="other">',
      '<spid:IPACode>unidemo</spid:IPACode><spid:Public/>',
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'http://www.w3.org/2001/04/xmlenc#sha256',
    ]) {
      assert.ok(r.body.includes(needle), needle);
    }
    // The signature is the EntityDescriptor's first child and covers the whole document.
    assert.match(r.body, /^<md:EntityDescriptor[^>]*><(ds:)?Signature[ >]/);
    const doc = await parseDomFromString(r.body);
    assert.ok(getVerifiedXml(r.body, doc.documentElement, [certOf(r.body)]));
  });

  it('has its metadata signature verified by xmlsec1', (ctx) => {
    const which = spawnSync('sh', ['-c', 'command -v xmlsec1']);
    if (which.status !== 0) {
      ctx.skip('xmlsec1 is not installed (Debian package xmlsec1): the independent signature check is skipped');
      return;
    }
    const file = join(idp.dir, 'sp-metadata.xml');
    const cert = join(idp.dir, 'sp-cert.pem');
    writeFileSync(file, metadata);
    writeFileSync(cert, certOf(metadata));
    const ok = spawnSync('xmlsec1', ['--verify', '--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor', '--pubkey-cert-pem', cert, file], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    // And it fails on a changed document.
    writeFileSync(file, metadata.replace('Università Demo', 'Università Falsa'));
    const bad = spawnSync('xmlsec1', ['--verify', '--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor', '--pubkey-cert-pem', cert, file], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  });

  it('keeps the generated key and certificate under the data directory across starts', async () => {
    assert.ok(existsSync(join(dataDir, 'spid', 'sp-key.pem')));
    const cert = readFileSync(join(dataDir, 'spid', 'sp-cert.pem'), 'utf8');
    assert.equal(certOf(metadata).replace(/\s/g, ''), cert.replace(/\s/g, ''));
  });

  it('sends a signed AuthnRequest by HTTP-Redirect with the SPID profile', async () => {
    const s = await startLogin(t, idp, '/account?x=1');
    assert.ok(s.location.startsWith(`${idp.ssoRedirect}?SAMLRequest=`));
    assert.ok(s.verifiesWithSpCert(certOf(metadata)));
    assert.ok(!s.verifiesWithSpCert(idp.keys.cert));
    const x = s.requestXml;
    assert.match(x, /<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity" NameQualifier="http:\/\/localhost:3000">http:\/\/localhost:3000<\/saml:Issuer>/);
    assert.match(x, /ForceAuthn="true"/);
    assert.match(x, /AttributeConsumingServiceIndex="0"/);
    assert.match(x, /Destination="https:\/\/idp.test.example\/sso"/);
    assert.match(x, /<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>https:\/\/www.spid.gov.it\/SpidL2<\/saml:AuthnContextClassRef>/);
    assert.match(x, /IssueInstant="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
    assert.doesNotMatch(x, /AllowCreate|IsPassive/);
    // RelayState is opaque: it says nothing of where the person goes afterwards.
    assert.doesNotMatch(s.relayState, /account/);
    const row = await t.ctx.db.kysely.selectFrom('spid_requests').selectAll().where('id', '=', s.requestId).executeTakeFirstOrThrow();
    assert.equal(row.return_to, '/account?x=1');
    assert.equal(row.level, 'SpidL2');
    assert.equal(row.consumed_at, null);
  });

  it('uses HTTP-POST (a signed request, one button, no script) for an IdP offering only POST', async () => {
    const other = await TestIdp.create();
    const t2 = await spidApp(other, { metadata: other.writeMetadata({ bindings: ['post'] }) });
    try {
      const r = await t2.app.inject({ method: 'GET', url: `/spid/login?idp=${encodeURIComponent(other.entityId)}` });
      assert.equal(r.statusCode, 200);
      assert.match(r.body, new RegExp(`<form method="post" action="${other.ssoPost}">`));
      assert.doesNotMatch(r.body, /<script/);
      assert.match(String(r.headers['content-security-policy']), /form-action https:\/\/idp.test.example/);
      const xml = Buffer.from(/name="SAMLRequest" value="([^"]+)"/.exec(r.body)![1]!, 'base64').toString('utf8');
      const doc = await parseDomFromString(xml);
      const spMeta = (await t2.app.inject({ method: 'GET', url: '/spid/metadata' })).body;
      assert.ok(getVerifiedXml(xml, doc.documentElement, [certOf(spMeta)]), 'the AuthnRequest signature verifies with the SP certificate');
      if (spawnSync('sh', ['-c', 'command -v xmlsec1']).status === 0) {
        // And independently, with xmlsec1.
        const file = join(other.dir, 'authn-request.xml');
        const cert = join(other.dir, 'sp-cert-post.pem');
        writeFileSync(file, xml);
        writeFileSync(cert, certOf(spMeta));
        const v = spawnSync('xmlsec1', ['--verify', '--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest', '--pubkey-cert-pem', cert, file], { encoding: 'utf8' });
        assert.equal(v.status, 0, v.stderr);
      }
      assert.match(xml, /<saml:Issuer[^>]*>http:\/\/localhost:3000<\/saml:Issuer><(ds:)?Signature[ >]/);
    } finally {
      await t2.close();
    }
  });

  it('limits the logins one client address may start', async () => {
    const t2 = await spidApp(idp, { spid: { maxStartsPerAddress: 3 } });
    try {
      const start = (ip: string) => t2.app.inject({ method: 'GET', url: `/spid/login?idp=${encodeURIComponent(idp.entityId)}`, remoteAddress: ip, headers: { accept: 'application/json' } });
      for (let i = 0; i < 3; i++) assert.equal((await start('10.1.1.1')).statusCode, 302);
      const r = await start('10.1.1.1');
      assert.equal(r.statusCode, 429);
      assert.equal(r.json().error.code, 'auth.rate_limited');
      assert.equal((await start('10.1.1.2')).statusCode, 302);
    } finally {
      await t2.close();
    }
  });

  it('refuses an unknown identity provider', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/spid/login?idp=https%3A%2F%2Fnope.example%2F', headers: { accept: 'application/json' } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error.code, 'spid.idp_unknown');
  });

  const rejected = async (r: Awaited<ReturnType<typeof postResponse>>, reason: string) => {
    assert.equal(r.statusCode, 400, r.body);
    assert.equal(r.json().error.code, 'spid.response_invalid');
    assert.ok(r.json().error.message.includes(reason), r.json().error.message);
  };

  it('accepts a response once: a replay is refused and writes nothing', async () => {
    const s = await startLogin(t, idp);
    const xml = idp.responseXml(specFor(t, idp, s));
    const first = await postResponse(t, s, xml);
    assert.equal(first.statusCode, 303);
    const before = await counts(t);
    await rejected(await postResponse(t, s, xml), 'response.replayed');
    assert.deepEqual(await counts(t), before);
  });

  it('refuses unsolicited responses (unknown or missing InResponseTo)', async () => {
    const s = await startLogin(t, idp);
    const before = await counts(t);
    const spec = specFor(t, idp, s);
    spec.inResponseTo = '_never-asked';
    spec.scdInResponseTo = '_never-asked';
    await rejected(await postResponse(t, s, idp.responseXml(spec)), 'response.unsolicited');
    spec.inResponseTo = null;
    await rejected(await postResponse(t, s, idp.responseXml(spec)), 'response.unsolicited');
    assert.deepEqual(await counts(t), before);
    // The real request is still usable: nothing consumed it.
    const ok = await postResponse(t, s, idp.responseXml(specFor(t, idp, s)));
    assert.equal(ok.statusCode, 303);
  });

  it('refuses an answer to an expired request, with a wrong RelayState, or in another browser', async () => {
    const s1 = await startLogin(t, idp);
    t.clock.advance(11 * 60_000);
    await rejected(await postResponse(t, s1, idp.responseXml(specFor(t, idp, s1))), 'request.expired');
    const s2 = await startLogin(t, idp);
    await rejected(await postResponse(t, s2, idp.responseXml(specFor(t, idp, s2)), { relayState: 'forged' }), 'response.relay_state');
    await rejected(await postResponse(t, s2, idp.responseXml(specFor(t, idp, s2)), { cookie: null }), 'response.other_browser');
    const s3 = await startLogin(t, idp);
    await rejected(await postResponse(t, s2, idp.responseXml(specFor(t, idp, s2)), { cookie: s3.cookie }), 'response.other_browser');
  });

  it('answers a rejected response with a translated 4xx page, not a redirect', async () => {
    const s = await startLogin(t, idp);
    const spec = specFor(t, idp, s);
    spec.audience = 'https://other.example/';
    const r = await postResponse(t, s, idp.responseXml(spec), { html: true });
    assert.equal(r.statusCode, 400);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /<html lang="it"/);
    assert.match(r.body, /La risposta del gestore di identità è stata rifiutata/);
    const s2 = await startLogin(t, idp);
    const cancelled = specFor(t, idp, s2);
    cancelled.statusCode = 'urn:oasis:names:tc:SAML:2.0:status:Responder';
    cancelled.statusMessage = 'ErrorCode nr25';
    cancelled.includeAssertion = false;
    const c = await postResponse(t, s2, idp.responseXml(cancelled), { html: true });
    assert.equal(c.statusCode, 401);
    assert.match(c.body, /Hai annullato l&#x27;autenticazione|Hai annullato l'autenticazione/);
  });
});

describe('SPID identity provider metadata from a registry', () => {
  let idp: TestIdp;
  let registry: KeyPair;
  let registryCertFile: string;
  before(async () => {
    idp = await TestIdp.create();
    registry = await makeKeys('registry.spid.example');
    registryCertFile = join(idp.dir, 'registry.pem');
    writeFileSync(registryCertFile, registry.cert);
  });

  const loginStatus = async (metadataFile: string) => {
    const t = await spidApp(idp, { metadata: metadataFile, spid: { registry: { certificateFile: registryCertFile } } });
    try {
      return (await t.app.inject({ method: 'GET', url: `/spid/login?idp=${encodeURIComponent(idp.entityId)}`, headers: { accept: 'application/json' } })).statusCode;
    } finally {
      await t.close();
    }
  };

  it('loads metadata signed with the registry certificate', async () => {
    assert.equal(await loginStatus(idp.writeMetadata({ registry })), 302);
  });
  it('refuses unsigned metadata, metadata signed by another key, and altered metadata', async () => {
    assert.equal(await loginStatus(idp.writeMetadata()), 400);
    assert.equal(await loginStatus(idp.writeMetadata({ registry: await makeKeys('evil.example') })), 400);
    const file = idp.writeMetadata({ registry });
    writeFileSync(file, readFileSync(file, 'utf8').replace('Test ID', 'Evil ID'));
    assert.equal(await loginStatus(file), 400);
  });
});
