import type { SpidConfig } from '../config/spid-schema.js';
import type { SpKeys } from './sp-keys.js';
import { BINDING, NAMEID_TRANSIENT, NS, buildXml, signEnveloped } from './xml.js';

export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
}

/**
 * The service provider's metadata per the SPID technical rules and notices: signed (RSA-SHA256),
 * AuthnRequestsSigned, one ACS (index 0, HTTP-POST), SLO, the AttributeConsumingService with the
 * requested attributes, Organization, and a ContactPerson "other" with the spid extensions of a
 * public (IPACode, Public) or private (VATNumber/FiscalCode, Private) provider.
 */
export function buildSpMetadata(cfg: SpidConfig, ep: SpEndpoints, keys: SpKeys, id: string): string {
  const c = cfg.contact;
  const extensions: Record<string, unknown> = c.public
    ? { 'spid:IPACode': c.ipaCode, 'spid:Public': {} }
    : {
        ...(c.vatNumber ? { 'spid:VATNumber': c.vatNumber } : {}),
        ...(c.fiscalCode ? { 'spid:FiscalCode': c.fiscalCode } : {}),
        'spid:Private': {},
      };
  const xml = buildXml({
    'md:EntityDescriptor': {
      '@xmlns:md': NS.md,
      '@xmlns:ds': NS.ds,
      '@xmlns:spid': NS.spid,
      '@entityID': ep.entityId,
      '@ID': id,
      'md:SPSSODescriptor': {
        '@protocolSupportEnumeration': 'urn:oasis:names:tc:SAML:2.0:protocol',
        '@AuthnRequestsSigned': 'true',
        '@WantAssertionsSigned': 'true',
        'md:KeyDescriptor': {
          '@use': 'signing',
          'ds:KeyInfo': { 'ds:X509Data': { 'ds:X509Certificate': keys.certBody } },
        },
        'md:SingleLogoutService': { '@Binding': BINDING.post, '@Location': ep.sloUrl },
        'md:NameIDFormat': NAMEID_TRANSIENT,
        'md:AssertionConsumerService': { '@Binding': BINDING.post, '@Location': ep.acsUrl, '@index': '0', '@isDefault': 'true' },
        'md:AttributeConsumingService': {
          '@index': '0',
          'md:ServiceName': { '@xml:lang': 'it', '#text': cfg.serviceName },
          'md:RequestedAttribute': cfg.attributes.map((a) => ({ '@Name': a })),
        },
      },
      'md:Organization': {
        'md:OrganizationName': { '@xml:lang': 'it', '#text': cfg.organization.name },
        'md:OrganizationDisplayName': { '@xml:lang': 'it', '#text': cfg.organization.displayName },
        'md:OrganizationURL': { '@xml:lang': 'it', '#text': cfg.organization.url },
      },
      'md:ContactPerson': {
        '@contactType': 'other',
        'md:Extensions': extensions,
        'md:EmailAddress': c.email,
        ...(c.telephone ? { 'md:TelephoneNumber': c.telephone } : {}),
      },
    },
  });
  // The signature is the first child of the EntityDescriptor, as the schema requires.
  return signEnveloped(xml, 'EntityDescriptor', { reference: "/*[local-name(.)='EntityDescriptor']/*[1]", action: 'before' }, keys);
}
