import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp } from '../helpers/app.js';
import { makeKeys, TestIdp, type KeyPair, type ResponseSpec } from './test-idp.js';
import { counts, mario, postResponse, spidApp, specFor, startLogin, type Started } from './harness.js';

const at = (base: Date, ms: number) => new Date(base.getTime() + ms).toISOString().replace(/\.\d+Z$/, 'Z');

interface Case {
  name: string;
  /** Changes the spec before the response is built and signed. */
  spec?: (s: ResponseSpec, now: Date, started: Started) => void;
  /** Changes the signed XML (wrapping, tampering). */
  xml?: (xml: string, s: ResponseSpec) => string;
  /** undefined: accepted; otherwise the error code and, for spid.response_invalid, the reason. */
  reject?: { code: string; reason?: string; status: number };
}

const invalid = (reason: string): Case['reject'] => ({ code: 'spid.response_invalid', reason, status: 400 });

describe('SPID assertion consumer: the response table', () => {
  let t: TestApp;
  let idp: TestIdp;
  let attacker: KeyPair;
  before(async () => {
    idp = await TestIdp.create();
    attacker = await makeKeys('idp.test.example');
    t = await spidApp(idp);
  });
  after(() => t.close());

  const cases: Case[] = [
    { name: 'valid: response and assertion signed, SpidL2' },
    { name: 'valid: SpidL3 where SpidL2 is the minimum', spec: (s) => void (s.authnContext = 'https://www.spid.gov.it/SpidL3') },
    { name: 'valid: only the assertion signed', spec: (s) => void (s.signResponse = false) },
    { name: 'valid: response Issuer without Format', spec: (s) => void (s.issuerFormat = null) },
    { name: 'valid: instants with milliseconds', spec: (s, now) => void (s.issueInstant = new Date(now.getTime() + 1500).toISOString()) },
    // Response level
    { name: 'response Version is not 2.0', spec: (s) => void (s.version = '1.0'), reject: invalid('response.version') },
    { name: 'response without ID', spec: (s) => void ((s.responseId = null), (s.signResponse = false)), reject: invalid('response.id_missing') },
    { name: 'response without IssueInstant', spec: (s) => void (s.issueInstant = null), reject: invalid('response.issue_instant_format') },
    { name: 'response IssueInstant not an instant', spec: (s) => void (s.issueInstant = '23/11/2026 09:00'), reject: invalid('response.issue_instant_format') },
    { name: 'response IssueInstant before the request', spec: (s, now) => void (s.issueInstant = at(now, -60_000)), reject: invalid('response.issue_instant_before_request') },
    { name: 'response IssueInstant in the future', spec: (s, now) => void (s.issueInstant = at(now, 10 * 60_000)), reject: invalid('response.issue_instant_future') },
    { name: 'response without Destination', spec: (s) => void (s.destination = null), reject: invalid('response.destination') },
    { name: 'response Destination of another SP', spec: (s) => void (s.destination = 'https://other.example/acs'), reject: invalid('response.destination') },
    { name: 'response Issuer of another IdP', spec: (s) => void (s.issuer = 'https://evil.example/'), reject: invalid('response.issuer_mismatch') },
    { name: 'response Issuer with a wrong Format', spec: (s) => void (s.issuerFormat = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'), reject: invalid('response.issuer_format') },
    { name: 'response signed with a key not registered (its cert in KeyInfo)', spec: (s) => void (s.signer = attacker), reject: invalid('response.signature') },
    {
      name: 'response signature broken after signing',
      xml: (x) => x.replace('<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>', '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success" />').replace(/Destination="([^"]+)"/, 'Destination="$1" Consent="urn:oasis:names:tc:SAML:2.0:consent:obtained"'),
      reject: invalid('response.signature'),
    },
    { name: 'status without StatusCode', xml: (x) => x.replace(/<samlp:Status>[\s\S]*<\/samlp:Status>/, '<samlp:Status></samlp:Status>'), spec: (s) => void (s.signResponse = false), reject: invalid('response.status_missing') },
    // SPID error statuses, each with its own message
    ...(
      [
        ['19', 'spid.credentials_repeated', 401],
        ['20', 'spid.level_unavailable', 401],
        ['21', 'spid.timeout', 401],
        ['22', 'spid.consent_denied', 403],
        ['23', 'spid.identity_suspended', 403],
        ['25', 'spid.cancelled', 401],
        ['30', 'spid.wrong_identity_type', 403],
      ] as const
    ).map(
      ([nr, code, status]): Case => ({
        name: `status ErrorCode nr${nr}`,
        spec: (s) => void ((s.statusCode = 'urn:oasis:names:tc:SAML:2.0:status:Responder'), (s.statusMessage = `ErrorCode nr${nr}`), (s.includeAssertion = false)),
        reject: { code, status },
      }),
    ),
    { name: 'status failure without a SPID code', spec: (s) => void ((s.statusCode = 'urn:oasis:names:tc:SAML:2.0:status:Requester'), (s.includeAssertion = false)), reject: { code: 'spid.auth_failed', status: 401 } },
    // Assertion level
    { name: 'no assertion', spec: (s) => void (s.includeAssertion = false), reject: invalid('assertion.missing') },
    { name: 'assertion not signed', spec: (s) => void (s.signAssertion = false), reject: invalid('assertion.signature') },
    { name: 'assertion not signed, response not signed', spec: (s) => void ((s.signAssertion = false), (s.signResponse = false)), reject: invalid('assertion.signature') },
    { name: 'assertion signed with a key not registered', spec: (s) => void ((s.signer = attacker), (s.signResponse = false)), reject: invalid('assertion.signature') },
    {
      name: 'assertion changed after signing (response unsigned)',
      spec: (s) => void (s.signResponse = false),
      xml: (x) => x.replace('RSSMRA80A01F205X', 'VRDLGI70A01H501C'),
      reject: invalid('assertion.signature'),
    },
    { name: 'assertion Version is not 2.0', spec: (s) => void (s.assertionVersion = '1.1'), reject: invalid('assertion.version') },
    { name: 'assertion without ID', spec: (s) => void ((s.assertionId = null), (s.signAssertion = false)), reject: invalid('assertion.signature') },
    { name: 'assertion IssueInstant before the request', spec: (s, now) => void (s.assertionIssueInstant = at(now, -60_000)), reject: invalid('assertion.issue_instant_before_request') },
    { name: 'assertion IssueInstant in the future', spec: (s, now) => void (s.assertionIssueInstant = at(now, 10 * 60_000)), reject: invalid('assertion.issue_instant_future') },
    { name: 'assertion without IssueInstant', spec: (s) => void (s.assertionIssueInstant = null), reject: invalid('assertion.issue_instant_format') },
    { name: 'assertion without Issuer', spec: (s) => void (s.assertionIssuer = null), reject: invalid('assertion.issuer_missing') },
    { name: 'assertion Issuer of another IdP', spec: (s) => void (s.assertionIssuer = 'https://evil.example/'), reject: invalid('assertion.issuer_mismatch') },
    { name: 'assertion Issuer without Format', spec: (s) => void (s.assertionIssuerFormat = null), reject: invalid('assertion.issuer_format') },
    { name: 'assertion Issuer with a wrong Format', spec: (s) => void (s.assertionIssuerFormat = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'), reject: invalid('assertion.issuer_format') },
    { name: 'no NameID', spec: (s) => void (s.nameId = null), reject: invalid('assertion.nameid_missing') },
    { name: 'NameID persistent, not transient', spec: (s) => void (s.nameIdFormat = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'), reject: invalid('assertion.nameid_format') },
    { name: 'NameID without Format', spec: (s) => void (s.nameIdFormat = null), reject: invalid('assertion.nameid_format') },
    { name: 'NameID without NameQualifier', spec: (s) => void (s.nameQualifier = null), reject: invalid('assertion.nameid_qualifier') },
    { name: 'SubjectConfirmation Method not bearer', spec: (s) => void (s.confirmationMethod = 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key'), reject: invalid('assertion.subject_confirmation') },
    { name: 'Recipient missing', spec: (s) => void (s.recipient = null), reject: invalid('assertion.recipient') },
    { name: 'Recipient of another SP', spec: (s) => void (s.recipient = 'https://other.example/acs'), reject: invalid('assertion.recipient') },
    { name: 'SubjectConfirmationData InResponseTo missing', spec: (s) => void (s.scdInResponseTo = null), reject: invalid('assertion.in_response_to') },
    { name: 'SubjectConfirmationData InResponseTo of another request', spec: (s) => void (s.scdInResponseTo = '_another'), reject: invalid('assertion.in_response_to') },
    { name: 'SubjectConfirmationData NotOnOrAfter missing', spec: (s) => void (s.scdNotOnOrAfter = null), reject: invalid('assertion.subject_not_on_or_after_format') },
    { name: 'SubjectConfirmationData expired', spec: (s, now) => void (s.scdNotOnOrAfter = at(now, -1000)), reject: invalid('assertion.subject_expired') },
    { name: 'Conditions NotBefore missing', spec: (s) => void (s.notBefore = null), reject: invalid('assertion.conditions_format') },
    { name: 'Conditions NotBefore in the future', spec: (s, now) => void (s.notBefore = at(now, 10 * 60_000)), reject: invalid('assertion.not_yet_valid') },
    { name: 'Conditions NotOnOrAfter missing', spec: (s) => void (s.notOnOrAfter = null), reject: invalid('assertion.conditions_format') },
    { name: 'Conditions expired', spec: (s, now) => void (s.notOnOrAfter = at(now, -1000)), reject: invalid('assertion.expired') },
    { name: 'Audience missing', spec: (s) => void (s.audience = null), reject: invalid('assertion.audience') },
    { name: 'Audience of another SP', spec: (s) => void (s.audience = 'https://other.example/'), reject: invalid('assertion.audience') },
    { name: 'AuthnContextClassRef missing', spec: (s) => void (s.authnContext = null), reject: invalid('assertion.authn_context') },
    { name: 'AuthnContextClassRef not a SPID level', spec: (s) => void (s.authnContext = 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password'), reject: invalid('assertion.authn_context') },
    { name: 'SpidL1 where SpidL2 is the minimum', spec: (s) => void (s.authnContext = 'https://www.spid.gov.it/SpidL1'), reject: invalid('assertion.level') },
    { name: 'a requested attribute missing', spec: (s) => void (s.attributes = { ...mario, email: undefined as unknown as string }, delete s.attributes.email), reject: invalid('assertion.attributes') },
    { name: 'an attribute not requested', spec: (s) => void (s.attributes = { ...mario, spidCode: 'ABCD1234567890' }), reject: invalid('assertion.attributes') },
    { name: 'fiscalNumber without TINIT-', spec: (s) => void (s.attributes = { ...mario, fiscalNumber: 'RSSMRA80A01F205X' }), reject: invalid('assertion.fiscal_number') },
    { name: 'fiscalNumber with a wrong check character', spec: (s) => void (s.attributes = { ...mario, fiscalNumber: 'TINIT-RSSMRA80A01F205Y' }), reject: invalid('assertion.fiscal_number') },
    { name: 'signed with RSA-SHA1 (response and assertion)', spec: (s) => void (s.sha1 = true), reject: invalid('response.signature') },
    { name: 'assertion signed with RSA-SHA1, response unsigned', spec: (s) => void ((s.sha1 = true), (s.signResponse = false)), reject: invalid('assertion.signature') },
    { name: 'dateOfBirth not a date', spec: (s) => void (s.attributes = { ...mario, dateOfBirth: '01/01/1980' }), reject: invalid('assertion.date_of_birth') },
    // Signature wrapping shapes
    {
      name: 'wrapping: an unsigned evil assertion first, the signed one hidden in Extensions',
      spec: (s) => void (s.signResponse = false),
      xml: (x) => {
        const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)![0];
        const evil = signed.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace('RSSMRA80A01F205X', 'VRDLGI70A01H501C').replace(/ID="[^"]+"/, 'ID="_evil"');
        return x.replace(signed, `${evil}<samlp:Extensions>${signed}</samlp:Extensions>`);
      },
      reject: invalid('assertion.count'),
    },
    {
      name: 'wrapping: two assertions, the signed one and an evil copy',
      spec: (s) => void (s.signResponse = false),
      xml: (x) => {
        const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)![0];
        const evil = signed.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace('RSSMRA80A01F205X', 'VRDLGI70A01H501C').replace(/ID="[^"]+"/, 'ID="_evil"');
        return x.replace(signed, `${signed}${evil}`);
      },
      reject: invalid('assertion.count'),
    },
    {
      name: 'wrapping: evil assertion carrying the signed one inside it, same ID',
      spec: (s) => void (s.signResponse = false),
      xml: (x) => {
        const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(x)![0];
        const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
        const evil = signed.replace(sig, '').replace('RSSMRA80A01F205X', 'VRDLGI70A01H501C').replace('</saml:Assertion>', `${sig}<saml:Advice>${signed}</saml:Advice></saml:Assertion>`);
        return x.replace(signed, evil);
      },
      reject: invalid('assertion.count'),
    },
    {
      name: 'wrapping: the response signature moved onto a copy, the original response altered',
      xml: (x, s) => {
        // The signed response is nested in an Extensions of a new unsigned response with other data.
        const outer = x.replace('RSSMRA80A01F205X', 'VRDLGI70A01H501C');
        return outer.replace(/(<samlp:Status>)/, `<samlp:Extensions>${x.replace(/^<samlp:Response[^>]*>/, `<samlp:Response ID="${s.responseId}" Version="2.0">`)}</samlp:Extensions>$1`);
      },
      reject: invalid('response.signature'),
    },
  ];

  for (const c of cases) {
    it(`${c.reject ? 'rejects' : 'accepts'}: ${c.name}`, async () => {
      const started = await startLogin(t, idp);
      const now = t.clock.now();
      const spec = specFor(t, idp, started);
      c.spec?.(spec, now, started);
      let xml = idp.responseXml(spec);
      if (c.xml) xml = c.xml(xml, spec);
      const before = await counts(t);
      const r = await postResponse(t, started, xml);
      const sessionCookie = (r.cookies as Array<{ name: string; value: string }>).find((k) => k.name === 'tessera_session' && k.value);
      if (!c.reject) {
        assert.equal(r.statusCode, 303, r.body);
        assert.equal(r.headers.location, '/account');
        assert.ok(sessionCookie, 'a session cookie');
        return;
      }
      assert.equal(r.statusCode, c.reject.status, r.body);
      const body = r.json() as { error: { code: string; message: string } };
      assert.equal(body.error.code, c.reject.code);
      if (c.reject.reason) assert.ok(body.error.message.includes(`(Dettaglio: ${c.reject.reason})`), body.error.message);
      assert.equal(sessionCookie, undefined);
      // Nothing written but the consumed request.
      assert.deepEqual(await counts(t), before);
      const req = await t.ctx.db.kysely.selectFrom('spid_requests').select('consumed_at').where('id', '=', started.requestId).executeTakeFirstOrThrow();
      assert.ok(req.consumed_at, 'the request is spent');
    });
  }
});
