import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { seedAccount } from '../helpers/fixtures.js';
import { TestIdp } from './test-idp.js';
import { dataDir, mario, spidSection } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const require = createRequire(import.meta.url);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

describe('SPID alignment in a real browser, in Italian', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: the browser test is skipped` }, () => {
  let t: TestApp;
  let idp: TestIdp;
  let idpServer: Server;
  let base: string;

  before(async () => {
    // The identity provider is a real local server: its SSO page shows one button that posts the
    // signed response back to Tessera, as a person would after authenticating.
    idpServer = createServer();
    await new Promise<void>((r) => idpServer.listen(0, '127.0.0.1', r));
    idp = await TestIdp.create(`http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await makeApp({
      config: testConfig((c) => void (c.spid = spidSection())),
      env: { PUBLIC_URL: base, SPID_IDP_METADATA: idp.writeMetadata({ bindings: ['redirect'] }), TESSERA_DATA_DIR: dataDir },
    });
    await t.app.listen({ host: '127.0.0.1', port });
    idpServer.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', idp.entityId);
      if (url.pathname !== '/sso') {
        res.writeHead(404).end();
        return;
      }
      const request = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
      const requestId = /\sID="([^"]+)"/.exec(request)![1]!;
      const spec = idp.spec({ requestId, now: t.clock.now(), sp: { entityId: base, acsUrl: `${base}/spid/acs` }, attributes: mario });
      const response = Buffer.from(idp.responseXml(spec)).toString('base64');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!doctype html><html lang="it"><head><title>Test IdP</title></head><body><main><h1>Test IdP</h1>` +
          `<form method="post" action="${base}/spid/acs"><input type="hidden" name="SAMLResponse" value="${esc(response)}">` +
          `<input type="hidden" name="RelayState" value="${esc(url.searchParams.get('RelayState') ?? '')}"><button type="submit">Invia</button></form></main></body></html>`,
      );
    });
  });
  after(async () => {
    await t?.close();
    await new Promise<void>((r) => idpServer.close(() => r()));
  });

  it('goes from "Entra con SPID" to the alignment page and links the account', async () => {
    const local = await seedAccount(t.ctx, {
      externalId: '20264444',
      givenName: 'Mario',
      familyName: 'Rossi',
      birthDate: '1980-01-02',
      taxCode: 'RSSMRA80A01F205X',
      personalEmail: 'vecchia@example.com',
      status: 'active',
      password: 'Vecchia-Pass1',
    });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      // bypassCSP only lets the axe-core checker run inside the page; Tessera's pages themselves have no script.
      const page = await browser.newPage({ locale: 'it-IT', bypassCSP: true });
      const axe = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
      const violations = async () => {
        await page.addScriptTag({ content: axe });
        const r = (await page.evaluate(`axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] })`)) as { violations: Array<{ id: string; impact: string }> };
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
      };
      await page.goto(`${base}/flows/login?lang=it`);
      await page.locator('summary', { hasText: 'Entra con SPID' }).click();
      assert.deepEqual(await violations(), []);
      await page.getByRole('link', { name: 'Test ID' }).click();
      await page.waitForURL(/\/sso\?/);
      await page.getByRole('button', { name: 'Invia' }).click();
      await page.waitForURL(/\/flows\/spid-alignment\//);
      const table = await page.locator('table.compare').innerText();
      assert.match(table, /Dati SPID/);
      assert.match(table, /Data di nascita\s+1980-01-01\s+1980-01-02\s+sarà aggiornato/);
      assert.match(table, /Email\s+mario.rossi@example.com\s+vecchia@example.com\s+sarà aggiornato/);
      assert.deepEqual(await violations(), []);
      await page.getByRole('button', { name: 'Conferma e usa SPID da ora in poi' }).click();
      await page.getByText('Il tuo account è collegato a SPID').first().waitFor();
      await page.getByRole('link', { name: 'Il mio account' }).first().click();
      await page.waitForURL(/\/account$/);
      assert.match(await page.content(), /20264444/);
    } finally {
      await browser.close();
    }
    const acc = await t.ctx.db.kysely.selectFrom('accounts').selectAll().where('id', '=', local.accountId).executeTakeFirstOrThrow();
    assert.equal(acc.federated_only, 1);
    assert.equal(acc.password_hash, null);
  });
});
