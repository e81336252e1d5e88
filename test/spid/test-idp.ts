import { inflateRawSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

const ENTITY = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface KeyPair {
  key: string;
  cert: string;
}

export async function makeKeys(cn: string): Promise<KeyPair> {
  const p = await generate([{ name: 'commonName', value: cn }], { keySize: 2048, algorithm: 'sha256' });
  return { key: p.private, cert: p.cert };
}

const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const attrs = (o: Record<string, string | null | undefined>) =>
  Object.entries(o)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(v!)}"`)
    .join('');

/** Signs the element selected by `xpath` with an enveloped RSA-SHA256 signature placed after its Issuer. */
export function signElement(xml: string, localName: 'Response' | 'Assertion' | 'LogoutRequest', keys: KeyPair, sha1 = false): string {
  const path = localName === 'Assertion' ? "//*[local-name(.)='Assertion']" : `/*[local-name(.)='${localName}']`;
  const sig = new SignedXml({
    privateKey: keys.key,
    publicCert: keys.cert,
    signatureAlgorithm: sha1 ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: C14N,
  });
  sig.addReference({ xpath: path, transforms: [ENVELOPED, C14N], digestAlgorithm: sha1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256' });
  // After the Issuer, as SAML's schema wants; first child when a test left the Issuer out.
  const hasIssuer = new RegExp(`<saml:${localName}[^>]*>\\s*<saml:Issuer`).test(xml) || (localName !== 'Assertion' && new RegExp(`^<samlp:${localName}[^>]*><saml:Issuer`).test(xml));
  const location = hasIssuer ? ({ reference: `${path}/*[local-name(.)='Issuer']`, action: 'after' } as const) : ({ reference: path, action: 'prepend' } as const);
  sig.computeSignature(xml, { location, prefix: 'ds' });
  return sig.getSignedXml();
}

/** Everything a response says; each test case changes one thing. `null` leaves an attribute out. */
export interface ResponseSpec {
  responseId: string | null;
  version: string | null;
  issueInstant: string | null;
  destination: string | null;
  inResponseTo: string | null;
  issuer: string | null;
  issuerFormat: string | null;
  statusCode: string;
  statusMessage: string | null;
  includeAssertion: boolean;
  assertionId: string | null;
  assertionVersion: string | null;
  assertionIssueInstant: string | null;
  assertionIssuer: string | null;
  assertionIssuerFormat: string | null;
  nameId: string | null;
  nameIdFormat: string | null;
  nameQualifier: string | null;
  confirmationMethod: string;
  recipient: string | null;
  scdInResponseTo: string | null;
  scdNotOnOrAfter: string | null;
  notBefore: string | null;
  notOnOrAfter: string | null;
  audience: string | null;
  authnContext: string | null;
  attributes: Record<string, string>;
  signAssertion: boolean;
  signResponse: boolean;
  /** Sign with RSA-SHA1 and SHA-1 digests (which SPID does not admit). */
  sha1?: boolean;
  /** Keys the IdP signs with (an attacker's keys in some cases). */
  signer: KeyPair | null;
}

/** A SPID identity provider living inside the test suite, with its own keys. */
export class TestIdp {
  readonly entityId: string;
  readonly ssoRedirect: string;
  readonly ssoPost: string;
  readonly sloRedirect: string;
  private constructor(
    readonly keys: KeyPair,
    readonly dir: string,
    base: string,
  ) {
    this.entityId = `${base}/`;
    this.ssoRedirect = `${base}/sso`;
    this.ssoPost = `${base}/sso-post`;
    this.sloRedirect = `${base}/slo`;
  }

  /** `base`: where the IdP lives (a real local server in browser tests). */
  static async create(base = 'https://idp.test.example'): Promise<TestIdp> {
    return new TestIdp(await makeKeys(new URL(base).hostname), mkdtempSync(join(tmpdir(), 'tessera-spid-')), base);
  }

  /** The IdP's metadata (optionally signed by a registry), written to a file; returns the path. */
  writeMetadata(opts: { bindings?: Array<'redirect' | 'post'>; registry?: KeyPair; name?: string } = {}): string {
    const bindings = opts.bindings ?? ['redirect', 'post'];
    const sso = bindings
      .map((b) =>
        b === 'redirect'
          ? `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoRedirect}"/>`
          : `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${this.ssoPost}"/>`,
      )
      .join('');
    let xml =
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${this.entityId}" ID="_idpmeta1">` +
      `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">` +
      `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body(this.keys.cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.sloRedirect}"/>` +
      `<md:NameIDFormat>${TRANSIENT}</md:NameIDFormat>${sso}</md:IDPSSODescriptor>` +
      `<md:Organization><md:OrganizationName xml:lang="it">Test IdP</md:OrganizationName><md:OrganizationDisplayName xml:lang="it">${esc(opts.name ?? 'Test ID')}</md:OrganizationDisplayName><md:OrganizationURL xml:lang="it">${this.entityId}</md:OrganizationURL></md:Organization>` +
      `</md:EntityDescriptor>`;
    if (opts.registry) {
      const sig = new SignedXml({ privateKey: opts.registry.key, publicCert: opts.registry.cert, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: C14N });
      sig.addReference({ xpath: "/*[local-name(.)='EntityDescriptor']", transforms: [ENVELOPED, C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
      sig.computeSignature(xml, { location: { reference: "/*[local-name(.)='EntityDescriptor']/*[1]", action: 'before' }, prefix: 'ds' });
      xml = sig.getSignedXml();
    }
    const file = join(this.dir, `idp-${Math.random().toString(36).slice(2)}.xml`);
    writeFileSync(file, xml);
    return file;
  }

  /** The default, valid answer to request `requestId` at `now`. */
  spec(p: { requestId: string; now: Date; sp: { entityId: string; acsUrl: string }; attributes: Record<string, string> }): ResponseSpec {
    const t = (ms: number) => new Date(p.now.getTime() + ms).toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      responseId: `_resp${Math.random().toString(36).slice(2)}`,
      version: '2.0',
      issueInstant: t(1000),
      destination: p.sp.acsUrl,
      inResponseTo: p.requestId,
      issuer: this.entityId,
      issuerFormat: ENTITY,
      statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      statusMessage: null,
      includeAssertion: true,
      assertionId: `_asrt${Math.random().toString(36).slice(2)}`,
      assertionVersion: '2.0',
      assertionIssueInstant: t(1000),
      assertionIssuer: this.entityId,
      assertionIssuerFormat: ENTITY,
      nameId: `_nid${Math.random().toString(36).slice(2)}`,
      nameIdFormat: TRANSIENT,
      nameQualifier: this.entityId,
      confirmationMethod: 'urn:oasis:names:tc:SAML:2.0:cm:bearer',
      recipient: p.sp.acsUrl,
      scdInResponseTo: p.requestId,
      scdNotOnOrAfter: t(5 * 60_000),
      notBefore: t(-60_000),
      notOnOrAfter: t(5 * 60_000),
      audience: p.sp.entityId,
      authnContext: 'https://www.spid.gov.it/SpidL2',
      attributes: p.attributes,
      signAssertion: true,
      signResponse: true,
      signer: this.keys,
    };
  }

  /** The response XML as the spec says, signed as it says (assertion first, then response). */
  responseXml(s: ResponseSpec): string {
    const issuer = (v: string | null, f: string | null) => (v === null ? '' : `<saml:Issuer${attrs({ Format: f })}>${esc(v)}</saml:Issuer>`);
    const attributes = Object.entries(s.attributes)
      .map(([k, v]) => `<saml:Attribute Name="${esc(k)}"><saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue></saml:Attribute>`)
      .join('');
    const assertion = s.includeAssertion
      ? `<saml:Assertion${attrs({ ID: s.assertionId, Version: s.assertionVersion, IssueInstant: s.assertionIssueInstant })}>` +
        issuer(s.assertionIssuer, s.assertionIssuerFormat) +
        `<saml:Subject>${s.nameId === null ? '' : `<saml:NameID${attrs({ Format: s.nameIdFormat, NameQualifier: s.nameQualifier })}>${esc(s.nameId)}</saml:NameID>`}` +
        `<saml:SubjectConfirmation Method="${s.confirmationMethod}"><saml:SubjectConfirmationData${attrs({ InResponseTo: s.scdInResponseTo, NotOnOrAfter: s.scdNotOnOrAfter, Recipient: s.recipient })}/></saml:SubjectConfirmation></saml:Subject>` +
        `<saml:Conditions${attrs({ NotBefore: s.notBefore, NotOnOrAfter: s.notOnOrAfter })}>${s.audience === null ? '' : `<saml:AudienceRestriction><saml:Audience>${esc(s.audience)}</saml:Audience></saml:AudienceRestriction>`}</saml:Conditions>` +
        `<saml:AuthnStatement AuthnInstant="${s.assertionIssueInstant ?? ''}" SessionIndex="_sess1"><saml:AuthnContext>${s.authnContext === null ? '' : `<saml:AuthnContextClassRef>${esc(s.authnContext)}</saml:AuthnContextClassRef>`}</saml:AuthnContext></saml:AuthnStatement>` +
        `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
        `</saml:Assertion>`
      : '';
    let xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
      `${attrs({ ID: s.responseId, Version: s.version, IssueInstant: s.issueInstant, Destination: s.destination, InResponseTo: s.inResponseTo })}>` +
      issuer(s.issuer ?? this.entityId, s.issuerFormat) +
      `<samlp:Status><samlp:StatusCode Value="${s.statusCode}"${s.statusCode.endsWith('Success') ? '/>' : '><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode>'}` +
      `${s.statusMessage === null ? '' : `<samlp:StatusMessage>${esc(s.statusMessage)}</samlp:StatusMessage>`}</samlp:Status>` +
      assertion +
      `</samlp:Response>`;
    if (s.signer && s.signAssertion && s.includeAssertion) xml = signElement(xml, 'Assertion', s.signer, s.sha1);
    if (s.signer && s.signResponse) xml = signElement(xml, 'Response', s.signer, s.sha1);
    return xml;
  }
}

/** A LogoutRequest from the IdP for the login whose NameID is `nameId`. */
export function logoutRequestXml(idp: TestIdp, nameId: string, now: Date, destination: string): string {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return (
    `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lo${Math.random().toString(36).slice(2)}" Version="2.0" IssueInstant="${t}" Destination="${destination}">` +
    `<saml:Issuer Format="${ENTITY}">${idp.entityId}</saml:Issuer>` +
    `<saml:NameID Format="${TRANSIENT}" NameQualifier="${idp.entityId}">${esc(nameId)}</saml:NameID>` +
    `<samlp:SessionIndex>_sess1</samlp:SessionIndex></samlp:LogoutRequest>`
  );
}

/** Reads the AuthnRequest out of a HTTP-Redirect URL. */
export function decodeRedirect(location: string): { xml: string; relayState: string; sigAlg: string; signature: string; signedPart: string; url: URL } {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  const signedPart = url.search.slice(1).split('&Signature=')[0]!;
  return { xml, relayState: url.searchParams.get('RelayState')!, sigAlg: url.searchParams.get('SigAlg')!, signature: url.searchParams.get('Signature')!, signedPart, url };
}
