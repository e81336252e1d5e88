import { certBodyOf } from '../../src/spid/sp-keys.js';
import { outgoingRequest } from '../../src/spid/authn-request.js';
import { checkResponse } from '../../src/spid/response-check.js';
import type { SpidRuntime } from '../../src/spid/runtime.js';
import { spidSection } from '../../test/spid/harness.js';
import { makeKeys, TestIdp } from '../../test/spid/test-idp.js';
import { argon2Bound, cpuMs, type BenchSection } from '../lib.js';

async function median(n: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await cpuMs(fn));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(n / 2)]!;
}

/**
 * SPID: CPU cost of checking one signed response (two RSA-SHA256 signatures, every SPID check)
 * and of building and signing one AuthnRequest, against one argon2id hash as the yardstick: a SPID
 * login may cost a few password hashes' worth of CPU, not more.
 */
export const spidBench: BenchSection = {
  name: 'spid',
  async run() {
    const idp = await TestIdp.create();
    const sp = await makeKeys('sp.bench.example');
    const now = new Date('2026-11-23T09:00:00Z');
    const rt: SpidRuntime = {
      cfg: spidSection(),
      entityId: 'https://sp.bench.example',
      acsUrl: 'https://sp.bench.example/spid/acs',
      sloUrl: 'https://sp.bench.example/spid/slo',
      keys: { key: sp.key, cert: sp.cert, certBody: certBodyOf(sp.cert) },
      idps: new Map([[idp.entityId, { entityId: idp.entityId, name: 'Bench ID', sso: { redirect: idp.ssoRedirect }, slo: {}, certs: [idp.keys.cert] }]]),
      metadata: '',
    };
    const pending = {
      id: '_bench1',
      idp: idp.entityId,
      level: 'SpidL2',
      comparison: 'minimum',
      relay_state: 'r',
      browser_hash: 'b',
      return_to: null,
      locale: 'it',
      language: null,
      issue_instant: now.toISOString(),
      expires_at: new Date(now.getTime() + 600_000).toISOString(),
      consumed_at: null,
    };
    const xml = idp.responseXml(
      idp.spec({ requestId: pending.id, now, sp: { entityId: rt.entityId, acsUrl: rt.acsUrl }, attributes: { name: 'Mario', familyName: 'Rossi', fiscalNumber: 'TINIT-RSSMRA80A01F205X', dateOfBirth: '1980-01-01', email: 'm@example.com' } }),
    );
    const first = await checkResponse(rt, xml, pending, new Date(now.getTime() + 2000));
    if (!first.ok) throw new Error(`bench response refused: ${first.reason}`);
    const check = await median(21, () => checkResponse(rt, xml, pending, new Date(now.getTime() + 2000)));
    const request = await median(21, async () =>
      outgoingRequest(rt, { id: '_b', issueInstant: now, idp: rt.idps.get(idp.entityId)!, level: 'SpidL2', comparison: 'minimum', relayState: 'x' }),
    );
    const argon = await argon2Bound();
    return [
      { metric: 'spid.response_check_cpu_ms', value: check, unit: 'ms' },
      { metric: 'spid.response_check_vs_argon2', value: check / argon, unit: 'ratio', goal: '≤ 4' },
      { metric: 'spid.authn_request_cpu_ms', value: request, unit: 'ms' },
    ];
  },
};
