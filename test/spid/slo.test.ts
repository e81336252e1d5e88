import assert from 'node:assert/strict';
import { createSign, createVerify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import type { TestApp } from '../helpers/app.js';
import { decodeRedirect, logoutRequestXml, makeKeys, signElement, TestIdp } from './test-idp.js';
import { postResponse, spidApp, specFor, startLogin } from './harness.js';

const certOf = (metadata: string) => {
  const b = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)![1]!;
  return `-----BEGIN CERTIFICATE-----\n${b.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
};

describe('SPID single logout started by the identity provider', () => {
  let t: TestApp;
  let idp: TestIdp;
  before(async () => {
    idp = await TestIdp.create();
    t = await spidApp(idp);
  });
  after(() => t.close());

  async function loggedIn() {
    const s = await startLogin(t, idp);
    const spec = specFor(t, idp, s);
    const r = await postResponse(t, s, idp.responseXml(spec));
    const token = (r.cookies as Array<{ name: string; value: string }>).find((c) => c.name === 'tessera_session')!.value;
    return { token, nameId: spec.nameId! };
  }
  const alive = async (token: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { authorization: `Bearer ${token}` } })).statusCode === 200;

  it('ends the sessions of that login on a signed LogoutRequest (HTTP-Redirect) and answers a signed LogoutResponse', async () => {
    const a = await loggedIn();
    const b = await loggedIn();
    const xml = logoutRequestXml(idp, a.nameId, t.clock.now(), 'http://localhost:3000/spid/slo');
    const q = new URLSearchParams({ SAMLRequest: deflateRawSync(Buffer.from(xml)).toString('base64'), RelayState: 'idp-state', SigAlg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' }).toString();
    const sig = createSign('RSA-SHA256').update(q).sign(idp.keys.key, 'base64');
    const r = await t.app.inject({ method: 'GET', url: `/spid/slo?${q}&Signature=${encodeURIComponent(sig)}` });
    assert.equal(r.statusCode, 302, r.body);
    const out = decodeRedirect(String(r.headers.location).replace('SAMLResponse=', 'SAMLRequest='));
    assert.ok(out.url.href.startsWith(idp.sloRedirect));
    assert.match(out.xml, /<samlp:LogoutResponse[^>]*InResponseTo="_lo/);
    assert.match(out.xml, /status:Success/);
    const spMeta = (await t.app.inject({ method: 'GET', url: '/spid/metadata' })).body;
    const signedPart = String(r.headers.location).split('?')[1]!.split('&Signature=')[0]!;
    assert.ok(createVerify('RSA-SHA256').update(signedPart).verify(certOf(spMeta), decodeURIComponent(String(r.headers.location).split('&Signature=')[1]!), 'base64'));
    assert.equal(await alive(a.token), false);
    assert.equal(await alive(b.token), true, 'another SPID login is untouched');
  });

  it('accepts HTTP-POST, and refuses unsigned or forged logout requests', async () => {
    const a = await loggedIn();
    const xml = logoutRequestXml(idp, a.nameId, t.clock.now(), 'http://localhost:3000/spid/slo');
    const post = (body: string) =>
      t.app.inject({ method: 'POST', url: '/spid/slo', payload: new URLSearchParams({ SAMLRequest: Buffer.from(body).toString('base64') }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } });
    const unsigned = await post(xml);
    assert.equal(unsigned.statusCode, 400);
    assert.match(unsigned.json().error.message, /logout.signature/);
    const forged = await post(signElement(xml, 'LogoutRequest', await makeKeys('evil.example')));
    assert.equal(forged.statusCode, 400);
    const get = await t.app.inject({ method: 'GET', url: '/spid/slo', headers: { accept: 'application/json' } });
    assert.equal(get.statusCode, 400, 'a plain GET logs nobody out');
    assert.equal(await alive(a.token), true);
    const ok = await post(signElement(xml, 'LogoutRequest', idp.keys));
    assert.equal(ok.statusCode, 302);
    assert.equal(await alive(a.token), false);
  });
});
