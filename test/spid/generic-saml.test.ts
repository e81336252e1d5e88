import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { TestClock } from '../../src/ports/clock.js';
import { loadOrCreateSpKeys } from '../../src/spid/sp-keys.js';
import { makeKeys } from './test-idp.js';
import { mario, spidSection } from './harness.js';
import { simpleSamlPhpMissing, startSimpleSamlPhp, type SimpleSamlPhp } from './simplesamlphp.js';

const CHROMIUM = '/usr/bin/chromium';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A clock that follows real time: SimpleSAMLphp stamps its messages with the real time. */
class RealClock extends TestClock {
  override now(): Date {
    return new Date();
  }
}

const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing` : simpleSamlPhpMissing();

describe('a generic SAML identity provider (SimpleSAMLphp) through the same service provider, SPID profile relaxed', { skip: missing ? `${missing}: the generic SAML test is skipped` : false }, () => {
  let t: TestApp;
  let ssp: SimpleSamlPhp;
  let base: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-generic-saml-'));
    const spid = spidSection({ profile: 'saml' });
    // The SP's certificate is made first, so that the IdP can be told which key signs requests.
    const spKeys = await loadOrCreateSpKeys(spid, { production: false, dataDir, entityId: base, organization: 'Università Demo' });
    ssp = await startSimpleSamlPhp({
      port: await freePort(),
      idpKeys: await makeKeys('127.0.0.1'),
      sp: { entityId: base, acsUrl: `${base}/spid/acs`, sloUrl: `${base}/spid/slo`, cert: spKeys.cert },
      user: { username: 'mario', password: 'Segreta-2026', attributes: mario },
    });
    t = await makeApp({
      config: testConfig((c) => void (c.spid = spid)),
      env: { PUBLIC_URL: base, SPID_IDP_METADATA: ssp.metadataUrl, TESSERA_DATA_DIR: dataDir },
      clock: new RealClock(),
    });
    await t.app.listen({ host: '127.0.0.1', port });
  });
  after(async () => {
    await t?.close();
    ssp?.stop();
  });

  it('logs a new person in: account created from the attributes, the IdP’s context class as acr', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ locale: 'it-IT' });
      await page.goto(`${base}/flows/login?lang=it`);
      await page.locator('summary', { hasText: 'Entra con SPID' }).click();
      await page.getByRole('link', { name: ssp.metadataUrl }).click();
      await page.locator('input[name="username"]').fill('mario');
      await page.locator('input[name="password"]').fill('Segreta-2026');
      await page.locator('input[name="password"]').press('Enter');
      await page.waitForURL(`${base}/account`, { timeout: 20_000 });
      // The username is made of the name, never of the codice fiscale.
      const content = await page.content();
      assert.match(content, /Accesso effettuato come mario\.rossi/);
      assert.doesNotMatch(content, /RSSMRA80A01F205X/i);
    } finally {
      await browser.close();
    }
    const link = await t.ctx.db.kysely.selectFrom('spid_identities').selectAll().where('tax_code', '=', 'RSSMRA80A01F205X').executeTakeFirstOrThrow();
    assert.equal(link.idp, ssp.metadataUrl);
    const session = await t.ctx.db.kysely.selectFrom('sessions').selectAll().where('account_id', '=', link.account_id).executeTakeFirstOrThrow();
    assert.equal(session.acr, 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password');
  });
});
