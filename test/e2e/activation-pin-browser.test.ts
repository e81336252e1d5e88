import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findAccountByUsername } from '../../src/accounts/repository.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { lastPinFor, makeAmka, seedStudent } from '../activation-pin/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (injected through the debugging protocol: the CSP forbids inline scripts). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = (await page.evaluate(() => (globalThis as any).axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }))) as {
    violations: Array<{ id: string; nodes: Array<{ target: string[] }> }>;
  };
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('activation-pin in a real browser, in Greek', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: browser test skipped` }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.institution.defaultCountry = 'GR')) });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('walks the whole path with no accessibility violations on any page', async () => {
    await seedStudent(t.ctx, { externalId: 'S7001', mobile: '+306912347001', email: 'giorgos@example.gr' });
    const context = await browser.newContext({ locale: 'el-GR' });
    const page = await context.newPage();
    const checked: string[] = [];
    const check = async (name: string) => {
      const v = await axeViolations(page);
      assert.deepEqual(v, [], `${name}: ${v.join('; ')}`);
      checked.push(name);
    };
    const submit = (label: string | RegExp) => page.getByRole('button', { name: label }).click();

    await page.goto(`${base}/?lang=el`);
    await check('home');
    await page.getByRole('link', { name: /PIN/ }).first().click();
    await page.waitForURL(/\/flows\/activation-pin\//);
    assert.match(await page.locator('h1').innerText(), /Ενεργοποίηση λογαριασμού με PIN/);
    await check('contact');

    // A wrong contact first: the failure page has the helpdesk link.
    await page.getByLabel('Κινητό τηλέφωνο').fill('6900000000');
    await submit('Επόμενο');
    await page.getByText('Δεν βρέθηκε χρήστης με τα στοιχεία αυτά').first().waitFor();
    assert.equal(await page.getByRole('link', { name: 'Υποβολή αιτήματος στην τεχνική υποστήριξη' }).count(), 1);
    await check('no match');

    await page.getByLabel('Κινητό τηλέφωνο').fill('691 234 7001');
    await submit('Επόμενο');
    await page.getByText('+30 69** *** *01').waitFor();
    await check('pin');
    await page.getByLabel('PIN').fill(await lastPinFor(t.app, '+306912347001'));
    await submit('Επόμενο');

    await page.getByLabel('Α.Μ.Κ.Α.').waitFor();
    await check('national id');
    await submit(/αριθμό ασφάλισης άλλης χώρας/);
    await page.getByLabel('Χώρα ασφάλισης').waitFor();
    await check('insurance');
    await submit('Έχω Α.Μ.Κ.Α.');
    await page.getByLabel('Α.Μ.Κ.Α.').fill(makeAmka('120302'));
    await submit('Επόμενο');

    await page.getByText('S7001').first().waitFor();
    await check('consent');
    await page.getByLabel('Τα στοιχεία είναι ακριβή').check();
    await submit('Συμφωνώ');

    await page.getByRole('heading', { name: 'Ορισμός κωδικού πρόσβασης' }).waitFor();
    await check('password');
    await page.locator('input[name="suggestion"]').first().check();
    await submit('Επόμενο');

    await page.getByRole('heading', { name: 'Ο λογαριασμός σας ενεργοποιήθηκε' }).waitFor();
    assert.match(await page.locator('main').innerText(), /s7001@studenti\.unidemo\.example\.org/);
    await check('done');

    await page.goto(`${base}/helpdesk/tickets/new?flow=activation-pin&state=awaiting_pin&code=activation.pin_locked&reference=abc12345`);
    await check('ticket form');
    assert.equal((await findAccountByUsername(t.ctx.db.kysely, 'S7001'))!.status, 'active');
    assert.equal(checked.length, 10);
    await context.close();
  });
});
