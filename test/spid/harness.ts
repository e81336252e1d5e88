import { createVerify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import type { SpidConfig } from '../../src/config/spid-schema.js';
import { decodeRedirect, type ResponseSpec, TestIdp } from './test-idp.js';

export const spidSection = (patch: Partial<SpidConfig> = {}): SpidConfig => ({
  level: 'SpidL2',
  comparison: 'minimum',
  attributes: ['name', 'familyName', 'fiscalNumber', 'dateOfBirth', 'email'],
  serviceName: 'Tessera Demo',
  organization: { name: 'Università Demo', displayName: 'UniDemo', url: 'https://www.unidemo.example.org/' },
  contact: { public: true, ipaCode: 'unidemo', email: 'spid@unidemo.example.org', telephone: '+390212345678' },
  idps: [],
  requestLifetimeSeconds: 600,
  maxStartsPerAddress: 120,
  profile: 'spid',
  ...patch,
});

/** One data directory per test process, so the SP keys are generated once. */
export const dataDir = mkdtempSync(join(tmpdir(), 'tessera-spid-data-'));

export async function spidApp(idp: TestIdp, opts: { spid?: Partial<SpidConfig>; metadata?: string } = {}): Promise<TestApp> {
  const metadata = opts.metadata ?? idp.writeMetadata();
  return makeApp({
    config: testConfig((c) => {
      c.spid = spidSection(opts.spid);
    }),
    env: { SPID_IDP_METADATA: metadata, TESSERA_DATA_DIR: dataDir },
  });
}

export const SP = { entityId: 'http://localhost:3000', acsUrl: 'http://localhost:3000/spid/acs' };

export const mario = {
  name: 'Mario',
  familyName: 'Rossi',
  fiscalNumber: 'TINIT-RSSMRA80A01F205X',
  dateOfBirth: '1980-01-01',
  email: 'mario.rossi@example.com',
};

/** A browser that went to /spid/login: its cookie, and the request the IdP received. */
export interface Started {
  cookie: string;
  requestId: string;
  relayState: string;
  requestXml: string;
  location: string;
  verifiesWithSpCert: (cert: string) => boolean;
}

export async function startLogin(t: TestApp, idp: TestIdp, returnTo?: string, lang?: string): Promise<Started> {
  const q = new URLSearchParams({ idp: idp.entityId, ...(returnTo ? { return_to: returnTo } : {}), ...(lang ? { lang } : {}) });
  const r = await t.app.inject({ method: 'GET', url: `/spid/login?${q}` });
  if (r.statusCode !== 302) throw new Error(`login start: ${r.statusCode} ${r.body}`);
  const location = String(r.headers.location);
  const cookie = (r.cookies as Array<{ name: string; value: string }>).find((c) => c.name === 'tessera_spid')!.value;
  const d = decodeRedirect(location);
  const requestId = /\sID="([^"]+)"/.exec(d.xml)![1]!;
  return {
    cookie,
    requestId,
    relayState: d.relayState,
    requestXml: d.xml,
    location,
    verifiesWithSpCert: (cert) => createVerify('RSA-SHA256').update(d.signedPart).verify(cert, decodeURIComponent(d.signature), 'base64'),
  };
}

/** Posts a response to the ACS as the browser would (form body), asking for JSON errors unless `html`. */
export async function postResponse(t: TestApp, s: Started, xml: string, opts: { html?: boolean; relayState?: string; cookie?: string | null; extraCookies?: string } = {}) {
  const form = new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), RelayState: opts.relayState ?? s.relayState });
  const cookies = [opts.cookie === null ? '' : `tessera_spid=${opts.cookie ?? s.cookie}`, opts.extraCookies ?? ''].filter(Boolean).join('; ');
  return t.app.inject({
    method: 'POST',
    url: '/spid/acs',
    payload: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: opts.html ? 'text/html' : 'application/json', 'accept-language': 'it', ...(cookies ? { cookie: cookies } : {}) },
  });
}

/** Row counts of every table a login could write to. */
export async function counts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['accounts', 'persons', 'sessions', 'audit_log', 'spid_identities', 'flows', 'one_time_codes'] as const) {
    const r = await t.ctx.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  return out;
}

export function specFor(t: TestApp, idp: TestIdp, s: Started, attributes: Record<string, string> = mario): ResponseSpec {
  return idp.spec({ requestId: s.requestId, now: t.clock.now(), sp: SP, attributes });
}
