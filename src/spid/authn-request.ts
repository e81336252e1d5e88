import type { SpidLevel } from '../config/spid-schema.js';
import { postBinding, redirectBinding, type Outgoing } from './bindings.js';
import type { IdentityProvider } from './idp-metadata.js';
import { levelUri, type SpidRuntime } from './runtime.js';
import { BINDING, NAMEID_ENTITY, NAMEID_TRANSIENT, NS, buildXml, signEnveloped } from './xml.js';

/** SAML instants without fractions of a second, as the SPID rules show them. */
export const samlInstant = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

export interface AuthnRequestInput {
  id: string;
  issueInstant: Date;
  idp: IdentityProvider;
  level: SpidLevel;
  comparison: 'minimum' | 'exact';
  relayState: string;
}

/**
 * A SPID AuthnRequest: Issuer with Format entity and NameQualifier, no AllowCreate and no
 * IsPassive, ForceAuthn from level 2 up, RequestedAuthnContext with the level and comparison,
 * AttributeConsumingServiceIndex 0, ACS URL with the POST binding.
 */
export function authnRequestXml(rt: SpidRuntime, r: AuthnRequestInput, destination: string): string {
  return buildXml({
    'samlp:AuthnRequest': {
      '@xmlns:samlp': NS.samlp,
      '@xmlns:saml': NS.saml,
      '@ID': r.id,
      '@Version': '2.0',
      '@IssueInstant': samlInstant(r.issueInstant),
      '@Destination': destination,
      '@AssertionConsumerServiceURL': rt.acsUrl,
      '@ProtocolBinding': BINDING.post,
      '@AttributeConsumingServiceIndex': '0',
      ...(r.level !== 'SpidL1' ? { '@ForceAuthn': 'true' } : {}),
      'saml:Issuer': { '@Format': NAMEID_ENTITY, '@NameQualifier': rt.entityId, '#text': rt.entityId },
      'samlp:NameIDPolicy': { '@Format': NAMEID_TRANSIENT },
      'samlp:RequestedAuthnContext': {
        '@Comparison': r.comparison,
        'saml:AuthnContextClassRef': levelUri(r.level),
      },
    },
  });
}

/**
 * The signed request for the IdP's binding: HTTP-Redirect when it offers one (the query string
 * signed, RSA-SHA256), otherwise HTTP-POST (the XML signed with an enveloped signature after the
 * Issuer, by xml-crypto).
 */
export function outgoingRequest(rt: SpidRuntime, r: AuthnRequestInput): Outgoing {
  if (r.idp.sso.redirect) return redirectBinding(r.idp.sso.redirect, 'SAMLRequest', authnRequestXml(rt, r, r.idp.sso.redirect), r.relayState, rt.keys.key);
  const dest = r.idp.sso.post!;
  const signed = signEnveloped(authnRequestXml(rt, r, dest), 'AuthnRequest', { reference: "/*[local-name(.)='AuthnRequest']/*[local-name(.)='Issuer']", action: 'after' }, rt.keys);
  return postBinding(dest, 'SAMLRequest', signed, r.relayState);
}
