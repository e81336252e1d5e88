import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedAccount } from '../helpers/fixtures.js';
import { assertCleanConsole, browserSkip, checkAxe, startBrowserApp, type BrowserApp } from '../helpers/browser.js';
import { importOffices, nameReferent, OFFICES } from '../mailboxes/helpers.js';
import { renderConsentPage, renderRefusedPage } from '../../src/oidc/interaction-pages.js';

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

/** WCAG relative luminance of an `rgb(…)`/`rgba(…)` colour. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

/** The focused element's outline colour and the first opaque background behind it. */
function focusRing(page: Page) {
  return page.evaluate(() => {
    const e = document.activeElement as HTMLElement;
    let bg = 'rgb(255, 255, 255)';
    for (let n: HTMLElement | null = e.parentElement; n; n = n.parentElement) {
      const b = getComputedStyle(n).backgroundColor;
      if (!b.startsWith('rgba(0, 0, 0, 0') && !/rgba\(.*, 0\.\d+\)$/.test(b)) {
        bg = b;
        break;
      }
    }
    const s = getComputedStyle(e);
    return { text: e.textContent?.trim() ?? '', style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, bg };
  });
}

describe('keyboard focus and buttons in a real browser', { skip: browserSkip }, () => {
  let b: BrowserApp;
  before(async () => {
    b = await startBrowserApp();
  });
  after(() => b?.close());

  it('the focus ring of the header links (brand, languages, main menu) stands out from the header colour, without JavaScript', async () => {
    const page = await b.newPage({ locale: 'en', javaScriptEnabled: false });
    await page.goto('/flows/login');
    await page.keyboard.press('Tab'); // the skip link
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      const inHeader = await page.evaluate(() => !!document.activeElement?.closest('.site-header'));
      if (!inHeader) break;
      const ring = await focusRing(page);
      seen.push(ring.text);
      assert.notEqual(ring.style, 'none', `${ring.text}: a focus ring`);
      assert.ok(ring.width >= 2, `${ring.text}: a ring at least 2px wide`);
      const ratio = contrast(ring.color, ring.bg);
      assert.ok(ratio >= 3, `${ring.text}: focus ring ${ring.color} on ${ring.bg} has contrast ${ratio.toFixed(2)}:1, under 3:1`);
    }
    assert.deepEqual(seen, ['UDemo University', 'Italiano', 'Ελληνικά', 'Home', 'Sign in']);
  });

  it('the consent page\'s "Deny" and the refusal page\'s way back look like the portal\'s secondary buttons, not bare browser buttons', async () => {
    const pages = {
      consent: renderConsentPage({ ctx: b.ctx, locale: 'en', path: '/consent', service: 'Library', scopes: ['openid', 'email'], action: '/consent', csrf: 'x' }),
      refused: renderRefusedPage({ ctx: b.ctx, locale: 'en', path: '/refused', service: 'Library', population: 'external', back: '/' }),
    };
    const page = await b.newPage({ locale: 'en' });
    // The pages as the server would send them, with the portal's real stylesheets.
    await page.route(`${b.baseUrl}/preview/*`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: pages[new URL(route.request().url()).pathname.split('/')[2] as keyof typeof pages] }));
    for (const [name, selector] of [['consent', 'button[value="deny"]'], ['refused', 'main a.button']] as const) {
      await page.goto(`/preview/${name}`);
      const look = await page.locator(selector).evaluate((e) => {
        const s = getComputedStyle(e);
        return { background: s.backgroundColor, color: s.color, border: s.borderTopColor };
      });
      assert.equal(look.background, 'rgb(255, 255, 255)', `${name}: white background`);
      assert.equal(look.color, look.border, `${name}: text in the brand colour of its border`);
      assert.ok(contrast(look.color, look.background) >= 4.5, `${name}: text contrast`);
      await checkAxe(page, name);
    }
  });
});

describe('a form sent twice in a real browser', { skip: browserSkip }, () => {
  let b: BrowserApp;
  before(async () => {
    b = await startBrowserApp();
  });
  after(() => b?.close());

  it('a double click (or the form sent again after the back button) shows where the flow stands, not an error, without JavaScript', async () => {
    const page = await b.newPage({ locale: 'en', javaScriptEnabled: false });
    await page.goto('/flows/username-recovery');
    const firstStep = await page.locator('h1').innerText();
    await page.locator('#f-email').fill('someone@example.org');
    // The first click's request reaches the server and moves the flow on; the browser drops its
    // answer for the second click's, which is the one the person sees.
    const form = await page.evaluate(() => {
      const f = document.querySelector<HTMLFormElement>('form.flow-form')!;
      return { action: f.getAttribute('action')!, data: Object.fromEntries([...new FormData(f)].map(([k, v]) => [k, String(v)])) };
    });
    const first = await page.request.post(form.action, { form: { ...form.data, action: 'submit' }, maxRedirects: 0, headers: { accept: 'text/html' } });
    assert.equal(first.status(), 303);
    await page.locator('button[value="submit"]').click();
    await page.waitForLoadState();
    assert.doesNotMatch(await page.title(), /Something went wrong|^Error/);
    assert.notEqual(await page.locator('h1').innerText(), 'Something went wrong');
    assert.equal(await page.locator('#error-summary').count(), 0);
    // The page the first click led to: the next step, or the flow's result.
    const shown = await page.locator('h1').innerText();
    await page.goto(new URL(page.url()).pathname);
    assert.equal(await page.locator('h1').innerText(), shown);
    assert.ok(shown !== firstStep || (await page.locator('#f-email').count()) === 0, 'the flow moved on');
    assertCleanConsole(page);
  });
});

describe('the error summary in a real browser', { skip: browserSkip }, () => {
  let b: BrowserApp;
  before(async () => {
    b = await startBrowserApp();
  });
  after(() => b?.close());

  it('every link of the summary leads to a control, a group of radio buttons included (registration as an institution, en)', async () => {
    const page = await b.newPage({ locale: 'en', width: 320 });
    await page.goto('/flows/registration');
    await page.getByLabel('Username').fill('ente.esterno');
    await page.getByLabel('Password', { exact: true }).fill('Brera-Pinacoteca-9');
    await page.getByLabel('Repeat the password').fill('Brera-Pinacoteca-9');
    await page.getByLabel('Given name').fill('Emma');
    await page.getByLabel('Family name').fill('Colombo');
    await page.getByLabel('Date of birth').fill('1995-07-21');
    await page.getByLabel('Mobile phone').fill('+39 347 765 4321');
    await page.getByLabel('Email address').fill('ente@example.org');
    await page.getByLabel('an institution').check();
    await page.getByLabel(/privacy notice/).check();
    await page.locator('button[value="submit"]').click();
    await page.waitForLoadState();
    const links = await page.locator('#error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    assert.equal(links.length, 1, `one field to correct: ${links.join(' ')}`);
    for (const href of links) {
      const target = await page.evaluate((id) => {
        const e = document.getElementById(id);
        return e ? { tag: e.tagName, type: e.getAttribute('type'), invalid: e.getAttribute('aria-invalid'), inGroup: e.closest('fieldset')?.querySelector('legend')?.textContent ?? null } : null;
      }, href.slice(1));
      assert.deepEqual(target, { tag: 'INPUT', type: 'radio', invalid: 'true', inGroup: 'I am registering as' }, `${href} leads to the group's first radio button`);
    }
    // Keyboard only: from the summary to the group.
    await page.locator('#error-summary a').first().focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'registrantType');
    await checkAxe(page, 'registration refused for an institution');
    assertCleanConsole(page);
  });
});
