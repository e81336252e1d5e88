import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedAccount } from '../helpers/fixtures.js';
import { assertCleanConsole, browserSkip, checkAxe, startBrowserApp, type BrowserApp } from '../helpers/browser.js';
import { importOffices, nameReferent, OFFICES } from '../mailboxes/helpers.js';

const ADDRESS = '20260001@studenti.unidemo.example.org';

/** The lines the address's domain (the text after the "@") takes on screen. */
async function domainLines(page: Page): Promise<number> {
  return page.evaluate(() => {
    const dd = document.querySelector('dd.address')!;
    const last = [...dd.childNodes].filter((n) => n.nodeType === 3).pop()!;
    const r = document.createRange();
    r.selectNodeContents(last);
    return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
  });
}

describe('error pages, the ticket form and the account page in a real browser', { skip: browserSkip }, () => {
  let b: BrowserApp;
  before(async () => {
    b = await startBrowserApp();
    await seedAccount(b.ctx, { externalId: '20260001', status: 'active', password: 'Campo-Fiorito58', email: ADDRESS });
  });
  after(() => b?.close());

  for (const width of [1280, 320]) {
    it(`/account in Greek at ${width}px: the address breaks only after the "@", no sideways scroll`, async () => {
      const page = await b.newPage({ locale: 'el', width });
      await page.goto('/flows/login');
      await page.locator('#f-username').fill('20260001');
      await page.locator('#f-password').fill('Campo-Fiorito58');
      await page.locator('button[value="submit"]').click();
      await page.waitForLoadState();
      await page.goto('/account');
      assert.equal(await page.locator('dd.address').innerText(), ADDRESS);
      if (width === 1280) assert.equal(await domainLines(page), 1, 'the domain is not split');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'no horizontal scroll');
      await checkAxe(page, `account ${width}px`);
    });
  }

  it('the referent page, with a request to decide and the activation link form, passes axe in Italian', async () => {
    assert.equal((await importOffices(b.app, OFFICES)).status, 200);
    await seedAccount(b.ctx, { population: 'staff', externalId: 'R1', username: 'luca.bianchi', status: 'active', password: 'Referente-Pw1', orgUnit: 'DIP-ISTR' });
    assert.equal((await nameReferent(b.app, 'DIP-ISTR', 'luca.bianchi')).status, 200);
    await seedAccount(b.ctx, { population: 'staff', externalId: 'S2', givenName: 'Elio', familyName: 'Sala', username: 'elio.sala', status: 'pending_activation', orgUnit: 'DIP-ISTR', personalEmail: 'elio@example.net' });
    const page = await b.newPage({ locale: 'it' });
    await page.goto('/referent/requests');
    await page.locator('#f-username').fill('luca.bianchi');
    await page.locator('#f-password').fill('Referente-Pw1');
    await page.locator('button[value="submit"]').click();
    await page.waitForLoadState();
    await page.getByRole('heading', { name: 'Invia un link di attivazione della casella' }).waitFor();
    await checkAxe(page, 'referent page');
    await page.locator('#f-username').fill('elio.sala');
    await page.getByRole('button', { name: 'Invia il link' }).click();
    await page.waitForLoadState();
    await page.getByText(/Un link di attivazione per Elio Sala/).waitFor();
    await checkAxe(page, 'referent page with a notice');
  });

  it('the 404 page, the ticket form with its errors, and a login refusal pass axe', async () => {
    const page = await b.newPage({ locale: 'en' });
    await page.goto('/no-such-page');
    await page.getByRole('link', { name: 'Go to the home page' }).waitFor();
    await checkAxe(page, '404');
    await page.goto('/helpdesk/tickets/new?flow=login&code=auth.invalid_credentials&time=2026-12-07T04:04:32.436Z');
    await checkAxe(page, 'ticket form');
    await page.locator('button[type="submit"]').click();
    await page.waitForLoadState();
    assert.match(await page.title(), /^Error: /);
    await checkAxe(page, 'ticket form with errors');
    await page.goto('/flows/login');
    await page.locator('#f-username').fill('nobody');
    await page.locator('#f-password').fill('Wrong-pass-1');
    await page.locator('button[value="submit"]').click();
    await page.waitForLoadState();
    assert.match(await page.title(), /^Error: Sign in/);
    await checkAxe(page, 'login refused');
  });

  it('a page back with errors puts the focus on their summary, without JavaScript too (el, 320px)', async () => {
    const page = await b.newPage({ locale: 'el', width: 320, javaScriptEnabled: false });
    const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
    await page.goto('/flows/login');
    assert.equal(await focused(), '', 'nothing is focused on a fresh form');
    // Fields to correct: the summary that links to them.
    await page.locator('button[value="submit"]').click();
    await page.waitForLoadState();
    assert.match(await page.title(), /^Σφάλμα: /);
    assert.equal(await focused(), 'error-summary');
    // The next Tab reaches the summary's first link, then the form.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '#f-username');
    // A refusal of the whole form (wrong credentials): its alert.
    await page.locator('#f-username').fill('nobody');
    await page.locator('#f-password').fill('Wrong-pass-1');
    await page.locator('button[value="submit"]').click();
    await page.waitForLoadState();
    assert.equal(await focused(), 'error-summary');
    assert.match(await page.locator('#error-summary').innerText(), /Λάθος όνομα χρήστη ή κωδικός/);
    assertCleanConsole(page);
  });
});
