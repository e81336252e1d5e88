import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedAccount } from '../helpers/fixtures.js';
import { assertCleanConsole, browserSkip, checkAxe, maybeScreenshot, startBrowserApp, type BrowserApp } from '../helpers/browser.js';

/** Checks the page a real visitor sees: accessible (axe, WCAG 2.1 AA), no CSP refusals or errors. */
async function inspect(page: Page, label: string): Promise<void> {
  await checkAxe(page, label);
  assertCleanConsole(page);
  await maybeScreenshot(page, label);
}

describe('activation with the enrolment password, in a real browser (Italian)', { skip: browserSkip }, () => {
  let b: BrowserApp;
  before(async () => {
    b = await startBrowserApp();
    await seedAccount(b.ctx, { externalId: '20267001', givenName: 'Giulia', familyName: 'Esposito', password: 'Immatr-2026' });
  });
  after(() => b?.close());

  it('goes from the home page to an active account, signs in and out, with no accessibility violations', async () => {
    const page = await b.newPage({ locale: 'it-IT' });
    const home = await page.goto('/');
    assert.equal(home?.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'it');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Il tuo account istituzionale');
    await inspect(page, 'home');

    await page.getByRole('link', { name: 'Attiva con la password di immatricolazione' }).click();
    await page.waitForURL(/\/flows\/activation-password\/[^/?]+$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Attiva il tuo account');
    await inspect(page, 'activation-form');

    // A first attempt with two different new passwords: the page says what is wrong, in Italian,
    // next to the field and in a summary linking to it, and keeps what was typed (not passwords).
    await page.getByLabel('Struttura').selectOption('student');
    await page.getByLabel('Nome utente').fill('20267001');
    await page.getByLabel('Password attuale').fill('Immatr-2026');
    await page.getByLabel('Nuova password', { exact: true }).fill('Campo-Fiorito58');
    await page.getByLabel('Ripeti la nuova password').fill('Campo-Fiorito59');
    await page.getByRole('button', { name: 'Attiva l’account' }).click();
    await page.waitForLoadState();
    const summary = page.getByRole('alert');
    assert.match((await summary.textContent()) ?? '', /Correggi quanto segue:.*Ripeti la nuova password: Le due password non coincidono\./s);
    assert.equal(await summary.getByRole('listitem').count(), 1, 'one problem, listed once');
    assert.equal(await summary.getByRole('link').getAttribute('href'), '#f-newPasswordConfirm');
    assert.equal(await page.getByLabel('Ripeti la nuova password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Nome utente').inputValue(), '20267001');
    assert.equal(await page.getByLabel('Password attuale').inputValue(), '');
    const pending = await b.ctx.db.kysely.selectFrom('accounts').select('status').where('username_lower', '=', '20267001').executeTakeFirstOrThrow();
    assert.equal(pending.status, 'pending_activation');
    await inspect(page, 'activation-form-error');

    await page.getByLabel('Struttura').selectOption('student');
    await page.getByLabel('Password attuale').fill('Immatr-2026');
    await page.getByLabel('Nuova password', { exact: true }).fill('Campo-Fiorito58');
    await page.getByLabel('Ripeti la nuova password').fill('Campo-Fiorito58');
    await page.getByRole('button', { name: 'Attiva l’account' }).click();
    await page.getByRole('heading', { level: 1, name: 'Il tuo account è attivo' }).waitFor();
    const status = await page.getByRole('status').textContent();
    assert.match(status ?? '', /Il tuo indirizzo istituzionale è 20267001@studenti\.unidemo\.example\.org\./);
    // The result page shows where to sign in, never a password.
    const resultHtml = await page.content();
    assert.ok(!resultHtml.includes('Campo-Fiorito58') && !resultHtml.includes('Immatr-2026'));
    await inspect(page, 'activation-result');

    await page.getByRole('link', { name: 'Accedi' }).first().click();
    await page.waitForURL(/\/flows\/login\/[^/?]+$/);
    await inspect(page, 'login');
    await page.getByLabel('Nome utente').fill('20267001');
    await page.getByLabel('Password', { exact: true }).fill('Campo-Fiorito58');
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.waitForURL(/\/account$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Il mio account');
    const facts = (await page.locator('main').textContent()) ?? '';
    assert.match(facts, /20267001@studenti\.unidemo\.example\.org/);
    assert.match(facts, /attivo/);
    assert.match((await page.locator('header').textContent()) ?? '', /Accesso effettuato come 20267001/);
    await inspect(page, 'account');

    await page.getByRole('button', { name: 'Esci' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    assert.equal(await page.getByRole('button', { name: 'Esci' }).count(), 0);
    // Signed out for real: the account page sends the visitor to the login page.
    await page.goto('/account');
    assert.match(page.url(), /\/flows\/login\//);
    assertCleanConsole(page);
  });

  it('switches language with plain links, Italian → Greek → English, with scripts turned off', async () => {
    const page = await b.newPage({ locale: 'it-IT', javaScriptEnabled: false });
    await page.goto('/flows/activation-password');
    assert.equal(await page.getAttribute('html', 'lang'), 'it');
    const flowPath = new URL(page.url()).pathname;
    const nav = page.getByRole('navigation', { name: 'Lingua' });
    assert.equal(await nav.getByRole('link').count(), 2, 'the current language is not a link');
    for (const link of await nav.getByRole('link').all()) {
      assert.match((await link.getAttribute('href')) ?? '', /\?lang=(el|en)$/);
      assert.ok(await link.getAttribute('hreflang'));
    }

    await nav.getByRole('link', { name: 'Ελληνικά' }).click();
    await page.waitForURL(/lang=el/);
    assert.equal(await page.getAttribute('html', 'lang'), 'el');
    assert.equal(new URL(page.url()).pathname, flowPath, 'the same form, in another language');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Ενεργοποίηση λογαριασμού');
    assert.equal(await page.getByLabel('Όνομα χρήστη').count(), 1);
    assert.equal(await page.locator('[aria-current="true"]').textContent(), 'Ελληνικά');

    await page.getByRole('navigation', { name: 'Γλώσσα' }).getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/lang=en/);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Activate your account');

    // The choice is remembered: the home page now opens in English despite the Italian browser.
    await page.goto('/');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your institutional account');
  });
});
