import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { sessionIdOf } from '../../src/sessions/sessions.js';
import { TestIdp, type ResponseSpec } from './test-idp.js';
import { counts, mario, postResponse, spidApp, specFor, startLogin } from './harness.js';

describe('the generic SAML profile (SPID rules relaxed, security checks kept)', () => {
  let t: TestApp;
  let idp: TestIdp;
  before(async () => {
    idp = await TestIdp.create();
    t = await spidApp(idp, { spid: { profile: 'saml' } });
  });
  after(() => t.close());

  async function post(change: (s: ResponseSpec) => void) {
    const s = await startLogin(t, idp);
    const spec = specFor(t, idp, s);
    change(spec);
    return postResponse(t, s, idp.responseXml(spec));
  }

  it('accepts what only SPID forbids: no Issuer Format, a persistent NameID, another context class, more attributes', async () => {
    const r = await post((s) => {
      s.assertionIssuerFormat = null;
      s.issuerFormat = null;
      s.nameIdFormat = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
      s.nameQualifier = null;
      s.authnContext = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
      s.attributes = { ...mario, eduPersonAffiliation: 'member' };
    });
    assert.equal(r.statusCode, 303, r.body);
    const token = (r.cookies as Array<{ name: string; value: string }>).find((c) => c.name === 'tessera_session')!.value;
    const session = await t.ctx.db.kysely.selectFrom('sessions').selectAll().where('id', '=', sessionIdOf(token)).executeTakeFirstOrThrow();
    assert.equal(session.acr, 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport');
  });

  for (const [name, change, reason] of [
    ['an unsigned assertion', (s: ResponseSpec) => void ((s.signAssertion = false), (s.signResponse = false)), 'assertion.signature'],
    ['another audience', (s: ResponseSpec) => void (s.audience = 'https://other.example/'), 'assertion.audience'],
    ['a missing requested attribute', (s: ResponseSpec) => void (s.attributes = { name: 'Mario', fiscalNumber: mario.fiscalNumber }), 'assertion.attributes'],
    ['an expired assertion', (s: ResponseSpec) => void (s.notOnOrAfter = '2026-11-23T08:00:00Z'), 'assertion.expired'],
  ] as const) {
    it(`still rejects ${name}`, async () => {
      const before = await counts(t);
      const r = await post(change);
      assert.equal(r.statusCode, 400);
      assert.ok(r.json().error.message.includes(reason), r.json().error.message);
      assert.deepEqual(await counts(t), before);
    });
  }
});
