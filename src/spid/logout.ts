import { inflateRawSync } from 'node:zlib';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { samlInstant } from './authn-request.js';
import { federatedSid } from './accounts.js';
import { postBinding, redirectBinding, verifyRedirectSignature, type Outgoing } from './bindings.js';
import type { SpidRuntime } from './runtime.js';
import { CLOCK_SKEW_MS } from './response-check.js';
import { NAMEID_ENTITY, NS, buildXml, child, parseXml, signEnveloped, textOf, verifiedXmlOf } from './xml.js';

export type LogoutInput =
  | { binding: 'post'; samlRequest: string; relayState?: string | undefined }
  | { binding: 'redirect'; samlRequest: string; relayState?: string | undefined; rawQuery: string };

export type LogoutResult = { ok: true; out: Outgoing | null; ended: number } | { ok: false; reason: string };

function logoutResponseXml(rt: SpidRuntime, inResponseTo: string, destination: string, at: Date): string {
  return buildXml({
    'samlp:LogoutResponse': {
      '@xmlns:samlp': NS.samlp,
      '@xmlns:saml': NS.saml,
      '@ID': `_${randomId(24).replace(/[^A-Za-z0-9]/g, '0')}`,
      '@Version': '2.0',
      '@IssueInstant': samlInstant(at),
      '@Destination': destination,
      '@InResponseTo': inResponseTo,
      'saml:Issuer': { '@Format': NAMEID_ENTITY, '@NameQualifier': rt.entityId, '#text': rt.entityId },
      'samlp:Status': { 'samlp:StatusCode': { '@Value': 'urn:oasis:names:tc:SAML:2.0:status:Success' } },
    },
  });
}

/**
 * Single logout started by an identity provider: a LogoutRequest signed by a registered IdP
 * (XML signature for HTTP-POST, query signature for HTTP-Redirect) ends the Tessera sessions
 * opened by that SPID login, and is answered with a signed LogoutResponse.
 */
export async function handleLogoutRequest(ctx: AppContext, rt: SpidRuntime, input: LogoutInput, meta: RequestMeta): Promise<LogoutResult> {
  let xml: string;
  try {
    const raw = Buffer.from(input.samlRequest, 'base64');
    xml = (input.binding === 'redirect' ? inflateRawSync(raw) : raw).toString('utf8');
  } catch {
    return { ok: false, reason: 'logout.malformed' };
  }
  let root: Element;
  try {
    root = (await parseXml(xml)).documentElement;
  } catch {
    return { ok: false, reason: 'logout.malformed' };
  }
  if (root.namespaceURI !== NS.samlp || root.localName !== 'LogoutRequest') return { ok: false, reason: 'logout.not_a_request' };
  const idp = rt.idps.get(textOf(child(root, NS.saml, 'Issuer')));
  if (!idp) return { ok: false, reason: 'logout.issuer' };
  let signed: Element;
  if (input.binding === 'post') {
    const v = verifiedXmlOf(xml, root, idp.certs);
    if (!v) return { ok: false, reason: 'logout.signature' };
    signed = (await parseXml(v)).documentElement;
  } else {
    if (!verifyRedirectSignature(input.rawQuery, 'SAMLRequest', idp.certs)) return { ok: false, reason: 'logout.signature' };
    signed = root;
  }
  const now = ctx.clock.now();
  const id = signed.getAttribute('ID');
  if (!id) return { ok: false, reason: 'logout.id_missing' };
  const dest = signed.getAttribute('Destination');
  if (dest && dest !== rt.sloUrl) return { ok: false, reason: 'logout.destination' };
  const issued = new Date(signed.getAttribute('IssueInstant') ?? '');
  if (Number.isNaN(issued.getTime()) || issued.getTime() > now.getTime() + CLOCK_SKEW_MS) return { ok: false, reason: 'logout.issue_instant' };
  const notAfter = signed.getAttribute('NotOnOrAfter');
  if (notAfter && new Date(notAfter).getTime() <= now.getTime()) return { ok: false, reason: 'logout.expired' };
  const nameId = textOf(child(signed, NS.saml, 'NameID'));
  if (!nameId) return { ok: false, reason: 'logout.nameid_missing' };

  const sid = federatedSid(idp.entityId, nameId);
  const ended = await ctx.db.kysely.transaction().execute(async (tx) => {
    const live = await tx.selectFrom('sessions').select(['id', 'account_id']).where('federated_sid', '=', sid).where('revoked_at', 'is', null).execute();
    if (live.length === 0) return 0;
    await tx.updateTable('sessions').set({ revoked_at: now.toISOString() }).where('federated_sid', '=', sid).where('revoked_at', 'is', null).execute();
    for (const accountId of new Set(live.map((s) => s.account_id))) {
      await audit(tx, now, { actor: `idp:${idp.entityId}`, action: 'logout.federated', accountId, ip: meta.ip, correlationId: meta.correlationId, details: { sessions: live.filter((s) => s.account_id === accountId).length } });
    }
    return live.length;
  });
  if (idp.slo.redirect) return { ok: true, ended, out: redirectBinding(idp.slo.redirect, 'SAMLResponse', logoutResponseXml(rt, id, idp.slo.redirect, now), input.relayState, rt.keys.key) };
  if (idp.slo.post) {
    const signedResponse = signEnveloped(logoutResponseXml(rt, id, idp.slo.post, now), 'LogoutResponse', { reference: "/*[local-name(.)='LogoutResponse']/*[local-name(.)='Issuer']", action: 'after' }, rt.keys);
    return { ok: true, ended, out: postBinding(idp.slo.post, 'SAMLResponse', signedResponse, input.relayState) };
  }
  return { ok: true, ended, out: null };
}
