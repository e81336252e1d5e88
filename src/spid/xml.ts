import { getVerifiedXml, parseDomFromString, signXml, xpath } from '@node-saml/node-saml/lib/xml.js';
import { create } from 'xmlbuilder';

/** SAML and SPID namespaces. */
export const NS = {
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  spid: 'https://spid.gov.it/saml-extensions',
} as const;

export const BINDING = {
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
} as const;

export const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
export const NAMEID_ENTITY = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';

/** Builds XML from an object (`@attr`, `#text`, child elements), escaping every value. */
export const buildXml = (obj: Record<string, unknown>): string => create(obj as { [name: string]: object }, { headless: true }).end({ pretty: false });

/** Parses XML strictly: any well-formedness error rejects. */
export const parseXml = (text: string): Promise<Document> => parseDomFromString(text);

/** Elements matching an XPath from `node`. */
export const select = (node: Node, path: string): Element[] => xpath.selectElements(node, path);

/** Children of `el` with this namespace and local name. */
export function children(el: Element, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === local) out.push(n as Element);
  }
  return out;
}

export const child = (el: Element, ns: string, local: string): Element | undefined => children(el, ns, local)[0];
export const textOf = (el: Element | undefined): string => (el?.textContent ?? '').trim();

/** Signature and digest algorithms SPID's technical rules admit (SHA-256 or stronger; never SHA-1). */
const signatureAlgorithms = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
]);
const digestAlgorithms = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmldsig-more#sha384', 'http://www.w3.org/2001/04/xmlenc#sha512']);

/** Whether the one signature of `node` uses only admitted algorithms (every reference's digest included). */
function strongAlgorithms(node: Element): boolean {
  const sigs = children(node, NS.ds, 'Signature');
  if (sigs.length !== 1) return false;
  const info = child(sigs[0]!, NS.ds, 'SignedInfo');
  const method = info && child(info, NS.ds, 'SignatureMethod');
  if (!info || !method || !signatureAlgorithms.has(method.getAttribute('Algorithm') ?? '')) return false;
  const refs = children(info, NS.ds, 'Reference');
  return refs.length > 0 && refs.every((r) => digestAlgorithms.has(child(r, NS.ds, 'DigestMethod')?.getAttribute('Algorithm') ?? ''));
}

/**
 * The signed content of `node` when it carries exactly one enveloped signature verifying with one
 * of `certs` (never a key found in the message), referencing the node itself, made with SHA-256 or
 * stronger; null otherwise.
 * Wrapping defences (one signature, one reference, unique ID, reference = parent) come from node-saml.
 */
export function verifiedXmlOf(fullXml: string, node: Element, certs: string[]): string | null {
  if (!strongAlgorithms(node)) return null;
  try {
    return getVerifiedXml(fullXml, node, certs);
  } catch {
    return null;
  }
}

/** Signs `xml` (its root element, referenced by ID) with RSA-SHA256, the signature placed as given. */
export function signEnveloped(
  xml: string,
  rootLocalName: string,
  location: { reference: string; action: 'before' | 'after' | 'prepend' | 'append' },
  keys: { key: string; cert: string },
): string {
  return signXml(xml, `/*[local-name(.)='${rootLocalName}']`, location, {
    privateKey: keys.key,
    publicCert: keys.cert,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
  });
}

/** A certificate body (base64 DER) as PEM. */
export function pemOf(body: string): string {
  const b = body.replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${b.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}
