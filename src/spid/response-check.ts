import type { ErrorCode } from '../errors/catalog.js';
import { normaliseCodiceFiscale } from '../domain/codice-fiscale.js';
import type { IdentityProvider } from './idp-metadata.js';
import type { PendingRequest } from './pending-requests.js';
import { levelRank, levelUri, type SpidRuntime } from './runtime.js';
import { NAMEID_ENTITY, NAMEID_TRANSIENT, NS, child, children, parseXml, textOf, verifiedXmlOf } from './xml.js';
import type { SpidLevel } from '../config/spid-schema.js';

/** Clocks of identity providers drift: instants up to this far in the future are tolerated. */
export const CLOCK_SKEW_MS = 60_000;

/** What a valid response says about the person. */
export interface SpidIdentity {
  idp: string;
  /** The authentication level (SpidL1–3; the AuthnContextClassRef under the generic SAML profile). */
  level: string;
  /** The codice fiscale, without TINIT-: the link key. */
  taxCode: string;
  givenName: string | null;
  familyName: string | null;
  birthDate: string | null;
  email: string | null;
  nameId: string;
  sessionIndex: string | null;
  attributes: Record<string, string>;
}

export type CheckResult = { ok: true; identity: SpidIdentity } | { ok: false; code: ErrorCode; reason: string };

const reject = (reason: string, code: ErrorCode = 'spid.response_invalid'): CheckResult => ({ ok: false, code, reason });

/** SPID's ErrorCode nrNN in StatusMessage, each with its own message. */
const spidStatus: Record<string, ErrorCode> = {
  '19': 'spid.credentials_repeated',
  '20': 'spid.level_unavailable',
  '21': 'spid.timeout',
  '22': 'spid.consent_denied',
  '23': 'spid.identity_suspended',
  '25': 'spid.cancelled',
  '30': 'spid.wrong_identity_type',
};

function instant(v: string | null): Date | null {
  if (!v || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(v)) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The codice fiscale in fiscalNumber (TINIT-<16 characters>), uppercased; null when malformed. */
export function taxCodeOf(fiscalNumber: string): string | null {
  const m = /^TINIT-([A-Z0-9]{16})$/i.exec(fiscalNumber.trim());
  // The check character too: a mistyped or made-up code never becomes an account's.
  return m ? normaliseCodiceFiscale(m[1]!) : null;
}

function checkInstant(v: string | null, what: string, pending: PendingRequest, now: Date): string | null {
  const d = instant(v);
  if (!d) return `${what}.issue_instant_format`;
  // Second precision: the request's own instant carries no fraction.
  if (Math.floor(d.getTime() / 1000) < Math.floor(new Date(pending.issue_instant).getTime() / 1000)) return `${what}.issue_instant_before_request`;
  if (d.getTime() > now.getTime() + CLOCK_SKEW_MS) return `${what}.issue_instant_future`;
  return null;
}

function checkIssuer(el: Element, idp: IdentityProvider, what: string, formatRequired: boolean): string | null {
  const issuers = children(el, NS.saml, 'Issuer');
  if (issuers.length !== 1) return `${what}.issuer_missing`;
  const issuer = issuers[0]!;
  if (textOf(issuer) !== idp.entityId) return `${what}.issuer_mismatch`;
  const format = issuer.getAttribute('Format');
  if (formatRequired ? format !== NAMEID_ENTITY : format !== '' && format !== null && format !== NAMEID_ENTITY) return `${what}.issuer_format`;
  return null;
}

/**
 * Checks a SAML response against the pending request it answers, every check of the SPID rules:
 * response and assertion signatures against the IdP's registered certificates only (wrapping
 * defences: one assertion, one signature each, referencing its own element; everything about
 * the person is read from the signed assertion only), instants against the request, Destination,
 * Recipient, Audience, NotBefore/NotOnOrAfter, Issuer formats, NameID format and NameQualifier,
 * the level against the requested comparison, and the attribute set against the requested one.
 * Produces `spid.response_invalid` (with a reason) or a SPID status code (`spid.cancelled`, …).
 */
export async function checkResponse(rt: SpidRuntime, xml: string, pending: PendingRequest, now: Date): Promise<CheckResult> {
  let doc: Document;
  try {
    doc = await parseXml(xml);
  } catch {
    return reject('response.malformed');
  }
  const res = doc.documentElement;
  if (res.namespaceURI !== NS.samlp || res.localName !== 'Response') return reject('response.not_a_response');
  const idp = rt.idps.get(pending.idp);
  if (!idp) return reject('response.idp_unknown');
  if (res.getAttribute('Version') !== '2.0') return reject('response.version');
  if (!res.getAttribute('ID')) return reject('response.id_missing');
  if (res.getAttribute('InResponseTo') !== pending.id) return reject('response.in_response_to');
  const ri = checkInstant(res.getAttribute('IssueInstant'), 'response', pending, now);
  if (ri) return reject(ri);
  if (res.getAttribute('Destination') !== rt.acsUrl) return reject('response.destination');
  const ris = checkIssuer(res, idp, 'response', false);
  if (ris) return reject(ris);
  const responseSigs = children(res, NS.ds, 'Signature');
  if (responseSigs.length > 0 && !verifiedXmlOf(xml, res, idp.certs)) return reject('response.signature');

  const status = child(res, NS.samlp, 'Status');
  const code = status && child(status, NS.samlp, 'StatusCode');
  if (!code) return reject('response.status_missing');
  if (code.getAttribute('Value') !== 'urn:oasis:names:tc:SAML:2.0:status:Success') {
    const nr = /ErrorCode nr(\d+)/.exec(textOf(child(status!, NS.samlp, 'StatusMessage')))?.[1];
    return reject(`status.${nr ? `nr${nr}` : 'failure'}`, (nr && spidStatus[nr]) || 'spid.auth_failed');
  }

  if (children(res, NS.saml, 'EncryptedAssertion').length > 0) return reject('assertion.encrypted');
  const assertions = children(res, NS.saml, 'Assertion');
  if (assertions.length !== 1) return reject(assertions.length === 0 ? 'assertion.missing' : 'assertion.count');
  if (doc.getElementsByTagNameNS(NS.saml, 'Assertion').length !== 1) return reject('assertion.count');
  const signedXml = verifiedXmlOf(xml, assertions[0]!, idp.certs);
  if (!signedXml) return reject('assertion.signature');
  // From here on only the signed bytes are read.
  const a = (await parseXml(signedXml)).documentElement;
  if (a.namespaceURI !== NS.saml || a.localName !== 'Assertion') return reject('assertion.signature');
  if (a.getAttribute('Version') !== '2.0') return reject('assertion.version');
  if (!a.getAttribute('ID')) return reject('assertion.id_missing');
  const ai = checkInstant(a.getAttribute('IssueInstant'), 'assertion', pending, now);
  if (ai) return reject(ai);
  const spid = rt.cfg.profile === 'spid';
  const ais = checkIssuer(a, idp, 'assertion', spid);
  if (ais) return reject(ais);

  const subject = child(a, NS.saml, 'Subject');
  const nameIdEl = subject && child(subject, NS.saml, 'NameID');
  if (!nameIdEl || !textOf(nameIdEl)) return reject('assertion.nameid_missing');
  if (spid && nameIdEl.getAttribute('Format') !== NAMEID_TRANSIENT) return reject('assertion.nameid_format');
  if (spid && !nameIdEl.getAttribute('NameQualifier')) return reject('assertion.nameid_qualifier');
  const confirmation = child(subject!, NS.saml, 'SubjectConfirmation');
  if (!confirmation || confirmation.getAttribute('Method') !== 'urn:oasis:names:tc:SAML:2.0:cm:bearer') return reject('assertion.subject_confirmation');
  const scd = child(confirmation, NS.saml, 'SubjectConfirmationData');
  if (!scd) return reject('assertion.subject_confirmation');
  if (scd.getAttribute('Recipient') !== rt.acsUrl) return reject('assertion.recipient');
  if (scd.getAttribute('InResponseTo') !== pending.id) return reject('assertion.in_response_to');
  const scdAfter = instant(scd.getAttribute('NotOnOrAfter'));
  if (!scdAfter) return reject('assertion.subject_not_on_or_after_format');
  if (scdAfter.getTime() <= now.getTime()) return reject('assertion.subject_expired');

  const conditions = child(a, NS.saml, 'Conditions');
  if (!conditions) return reject('assertion.conditions_missing');
  const notBefore = instant(conditions.getAttribute('NotBefore'));
  const notOnOrAfter = instant(conditions.getAttribute('NotOnOrAfter'));
  if (!notBefore || !notOnOrAfter) return reject('assertion.conditions_format');
  if (notBefore.getTime() > now.getTime() + CLOCK_SKEW_MS) return reject('assertion.not_yet_valid');
  if (notOnOrAfter.getTime() <= now.getTime()) return reject('assertion.expired');
  const restriction = child(conditions, NS.saml, 'AudienceRestriction');
  const audiences = restriction ? children(restriction, NS.saml, 'Audience').map(textOf) : [];
  if (audiences.length !== 1 || audiences[0] !== rt.entityId) return reject('assertion.audience');

  const authn = child(a, NS.saml, 'AuthnStatement');
  const ctxEl = authn && child(authn, NS.saml, 'AuthnContext');
  const classRef = textOf(ctxEl ? child(ctxEl, NS.saml, 'AuthnContextClassRef') : undefined);
  const got = levelRank(classRef);
  if (spid) {
    if (got === 0) return reject('assertion.authn_context');
    const wanted = levelRank(levelUri(pending.level as SpidLevel));
    if (pending.comparison === 'exact' ? got !== wanted : got < wanted) return reject('assertion.level');
  } else if (!authn) return reject('assertion.authn_context');

  const statement = child(a, NS.saml, 'AttributeStatement');
  const attributes: Record<string, string> = {};
  for (const attr of statement ? children(statement, NS.saml, 'Attribute') : []) {
    const name = attr.getAttribute('Name') ?? '';
    if (name in attributes) return reject('assertion.attribute_duplicate');
    attributes[name] = textOf(child(attr, NS.saml, 'AttributeValue'));
  }
  const requested = [...rt.cfg.attributes].sort();
  const received = Object.keys(attributes).sort();
  if (spid ? requested.join(',') !== received.join(',') : !requested.every((r) => r in attributes)) return reject('assertion.attributes');
  const taxCode = taxCodeOf(attributes.fiscalNumber ?? '');
  if (!taxCode) return reject('assertion.fiscal_number');
  const birth = attributes.dateOfBirth ?? null;
  if (birth !== null && !/^\d{4}-\d{2}-\d{2}$/.test(birth)) return reject('assertion.date_of_birth');
  return {
    ok: true,
    identity: {
      idp: idp.entityId,
      level: got > 0 ? (['SpidL1', 'SpidL2', 'SpidL3'] as const)[got - 1]! : classRef || 'urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified',
      taxCode,
      givenName: attributes.name || null,
      familyName: attributes.familyName || null,
      birthDate: birth,
      email: attributes.email || null,
      nameId: textOf(nameIdEl),
      sessionIndex: authn!.getAttribute('SessionIndex') || null,
      attributes,
    },
  };
}
