import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeApp, type TestApp } from '../helpers/app.js';
import { verificationLink } from '../registration/outbox.js';

const CHROMIUM = '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core injected through the debugging protocol (the page's CSP forbids inline scripts). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ passes: unknown[]; violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  assert.ok(res.passes.length > 10, 'axe ran its checks');
  return res.violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
}

describe('registration in a real browser (English)', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: the browser test needs Debian's chromium` }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  before(async () => {
    t = await makeApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
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

  it('registration → email link → login, with no accessibility violation', async () => {
    const page = await browser.newPage({ locale: 'en-GB' });
    await page.goto(`${base}/flows/registration?lang=en`);
    assert.equal(await page.locator('h1').textContent(), 'Register');
    // The privacy notice, linked next to its checkbox (which it describes), in the page's language.
    const notice = page.getByRole('link', { name: 'Read the privacy notice (version 2026-09)' });
    assert.equal(await notice.getAttribute('href'), 'https://www.unidemo.example.org/en/privacy/registration');
    assert.equal(await page.getByLabel(/privacy notice/).getAttribute('aria-describedby'), 'f-consents-notice');
    assert.deepEqual(await axeViolations(page), []);
    await page.getByLabel('Username').fill('emma.external');
    await page.getByLabel('Password', { exact: true }).fill('Brera-Pinacoteca-9');
    await page.getByLabel('Repeat the password').fill('Brera-Pinacoteca-9');
    await page.getByLabel('Given name').fill('Emma');
    await page.getByLabel('Family name').fill('Colombo');
    await page.getByLabel('Date of birth').fill('1995-07-21');
    await page.getByLabel('Mobile phone').fill('+39 347 765 4321');
    await page.getByLabel('Email address').fill('emma@example.org');
    await page.getByLabel('a private person').check();
    await page.getByLabel(/privacy notice/).check();
    await page.locator('button[value="submit"]').click();
    await page.waitForURL(/\/flows\/registration\/[A-Za-z0-9_-]+$/);
    assert.equal(await page.locator('h1').textContent(), 'Confirm your email address');
    assert.match(await page.locator('main').innerText(), /We have sent the activation link to emma@example\.org\. It works for 24 hours/);
    assert.deepEqual(await axeViolations(page), []);

    // Before the link: login is refused with the reason and a way to get the email again.
    await page.goto(`${base}/flows/login`);
    await page.getByLabel('Username').fill('emma.external');
    await page.getByLabel('Password').fill('Brera-Pinacoteca-9');
    await page.locator('button[value="submit"]').click();
    assert.match(await page.locator('.error-summary').innerText(), /not confirmed yet/);
    assert.equal(await page.locator('button[value="resend_verification"]').count(), 1);
    assert.deepEqual(await axeViolations(page), []);

    const link = await verificationLink(t.ctx, 'emma@example.org');
    await page.goto(`${base}${link.path}`);
    assert.equal(await page.locator('h1').textContent(), 'Your credentials are active');
    assert.deepEqual(await axeViolations(page), []);
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.getByLabel('Username').fill('emma.external');
    await page.getByLabel('Password').fill('Brera-Pinacoteca-9');
    await page.locator('button[value="submit"]').click();
    await page.waitForURL(/\/account$/);
    assert.match(await page.locator('main').innerText(), /emma\.external/);
    assert.deepEqual(await axeViolations(page), []);
    await page.close();
  });

  it('a further consent the institution requires, left unticked: its error, the notice linked once, no accessibility violation (Greek)', async () => {
    t.ctx.config.registration.consents = [{ id: 'terms', version: '2026-10', required: true, text: { en: 'I accept the terms of use', el: 'Αποδέχομαι τους όρους χρήσης' } }];
    try {
      const page = await browser.newPage({ locale: 'el-GR' });
      await page.goto(`${base}/flows/registration?lang=el`);
      assert.equal(await page.getByRole('link', { name: /Διαβάστε την ενημέρωση για την προστασία δεδομένων/ }).count(), 1);
      await page.getByLabel('Όνομα χρήστη').fill('eleni.external');
      await page.getByLabel(/Διάβασα την ενημέρωση/).check();
      await page.locator('button[value="submit"]').click();
      await page.waitForSelector('.error-summary');
      assert.match(await page.locator('.error-summary').innerText(), /Αποδέχομαι τους όρους χρήσης: Για να εγγραφείτε πρέπει να δώσετε αυτή τη συναίνεση\./);
      assert.equal(await page.getByLabel('Αποδέχομαι τους όρους χρήσης').getAttribute('aria-invalid'), 'true');
      assert.deepEqual(await axeViolations(page), []);
      await page.close();
    } finally {
      t.ctx.config.registration.consents = [];
    }
  });
});
