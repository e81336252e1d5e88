import { createSign, createVerify } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/** What the browser is sent: a redirect URL, or a form to post to the other party. */
export type Outgoing = { binding: 'redirect'; url: string } | { binding: 'post'; url: string; fields: Record<string, string> };

/**
 * HTTP-Redirect binding: the message deflated and base64-encoded in the query, with RelayState
 * and SigAlg, and the whole query signed (RSA-SHA256) as the binding prescribes.
 */
export function redirectBinding(url: string, param: 'SAMLRequest' | 'SAMLResponse', xml: string, relayState: string | undefined, key: string): Outgoing {
  const q = new URLSearchParams({
    [param]: deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'),
    ...(relayState ? { RelayState: relayState } : {}),
    SigAlg: RSA_SHA256,
  }).toString();
  const signature = createSign('RSA-SHA256').update(q).sign(key, 'base64');
  return { binding: 'redirect', url: `${url}${url.includes('?') ? '&' : '?'}${q}&Signature=${encodeURIComponent(signature)}` };
}

/** HTTP-POST binding: the (already signed) message base64-encoded in a form. */
export function postBinding(url: string, param: 'SAMLRequest' | 'SAMLResponse', signedXml: string, relayState: string | undefined): Outgoing {
  return { binding: 'post', url, fields: { [param]: Buffer.from(signedXml, 'utf8').toString('base64'), ...(relayState ? { RelayState: relayState } : {}) } };
}

/**
 * Verifies an HTTP-Redirect signature over the query exactly as received (the parameters keep
 * their original encoding, in the binding's order) with one of the registered certificates.
 */
export function verifyRedirectSignature(rawQuery: string, param: 'SAMLRequest' | 'SAMLResponse', certs: string[]): boolean {
  const parts = new Map<string, string>();
  for (const p of rawQuery.split('&')) {
    const i = p.indexOf('=');
    if (i > 0) parts.set(p.slice(0, i), p.slice(i + 1));
  }
  const sigAlg = parts.get('SigAlg');
  const signature = parts.get('Signature');
  if (!parts.get(param) || !sigAlg || !signature || decodeURIComponent(sigAlg) !== RSA_SHA256) return false;
  const signed = [`${param}=${parts.get(param)}`, ...(parts.has('RelayState') ? [`RelayState=${parts.get('RelayState')}`] : []), `SigAlg=${sigAlg}`].join('&');
  const sig = decodeURIComponent(signature.replace(/\+/g, ' '));
  return certs.some((c) => {
    try {
      return createVerify('RSA-SHA256').update(signed).verify(c, sig, 'base64');
    } catch {
      return false;
    }
  });
}
