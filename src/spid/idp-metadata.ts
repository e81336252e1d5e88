import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { BINDING, NS, child, children, parseXml, pemOf, select, textOf, verifiedXmlOf } from './xml.js';

/** A SPID identity provider as its metadata describe it. */
export interface IdentityProvider {
  entityId: string;
  name: string;
  /** SingleSignOnService endpoints by binding. */
  sso: { redirect?: string; post?: string };
  /** SingleLogoutService endpoints by binding (where logout answers go). */
  slo: { redirect?: string; post?: string };
  /** Its registered signing certificates (PEM): the only keys a response may be verified with. */
  certs: string[];
}

async function fetchText(source: string): Promise<string> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(15_000), headers: { accept: 'application/samlmetadata+xml, application/xml' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.text();
  }
  return readFile(source, 'utf8');
}

function parseIdp(entity: Element): IdentityProvider | null {
  const entityId = entity.getAttribute('entityID');
  const idpsso = child(entity, NS.md, 'IDPSSODescriptor');
  if (!entityId || !idpsso) return null;
  const sso: IdentityProvider['sso'] = {};
  for (const s of children(idpsso, NS.md, 'SingleSignOnService')) {
    const loc = s.getAttribute('Location');
    if (!loc || !/^https?:\/\//.test(loc)) continue;
    if (s.getAttribute('Binding') === BINDING.redirect) sso.redirect ??= loc;
    if (s.getAttribute('Binding') === BINDING.post) sso.post ??= loc;
  }
  const slo: IdentityProvider['slo'] = {};
  for (const s of children(idpsso, NS.md, 'SingleLogoutService')) {
    const loc = s.getAttribute('ResponseLocation') || s.getAttribute('Location');
    if (!loc || !/^https?:\/\//.test(loc)) continue;
    if (s.getAttribute('Binding') === BINDING.redirect) slo.redirect ??= loc;
    if (s.getAttribute('Binding') === BINDING.post) slo.post ??= loc;
  }
  const certs: string[] = [];
  for (const kd of children(idpsso, NS.md, 'KeyDescriptor')) {
    const use = kd.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const c of select(kd, ".//*[local-name(.)='X509Certificate']")) {
      try {
        const pem = pemOf(textOf(c));
        new X509Certificate(pem);
        certs.push(pem);
      } catch {
        // A malformed certificate is skipped: it could never verify anything.
      }
    }
  }
  if (certs.length === 0 || (!sso.redirect && !sso.post)) return null;
  const org = child(entity, NS.md, 'Organization');
  const names = org ? children(org, NS.md, 'OrganizationDisplayName') : [];
  const name = textOf(names.find((n) => n.getAttribute('xml:lang') === 'it') ?? names[0]) || entityId;
  return { entityId, name, sso, slo, certs };
}

/**
 * Reads IdP metadata from each source (URL or file). When `registryCert` is given, a document
 * whose root is not signed with it is refused, and only its signed content is read.
 * A bad source is logged and skipped, so one broken IdP does not stop the others.
 */
export async function loadIdentityProviders(sources: string[], registryCert: string | null, log: Logger): Promise<Map<string, IdentityProvider>> {
  const out = new Map<string, IdentityProvider>();
  for (const source of sources) {
    try {
      let text = await fetchText(source);
      let doc = await parseXml(text);
      if (registryCert) {
        const verified = verifiedXmlOf(text, doc.documentElement, [registryCert]);
        if (!verified) throw new Error('metadata signature does not verify with the registry certificate');
        text = verified;
        doc = await parseXml(verified);
      }
      const root = doc.documentElement;
      const entities =
        root.namespaceURI === NS.md && root.localName === 'EntityDescriptor'
          ? [root]
          : select(root, "//*[local-name(.)='EntityDescriptor' and namespace-uri(.)='urn:oasis:names:tc:SAML:2.0:metadata']");
      for (const e of entities) {
        const idp = parseIdp(e);
        if (idp) out.set(idp.entityId, idp);
      }
    } catch (err) {
      log.error({ source, reason: (err as Error).message }, 'spid: identity provider metadata refused');
    }
  }
  return out;
}
