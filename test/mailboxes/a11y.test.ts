import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PW = 'Accesso-Pass1';

describe('mailbox pages in a real browser (WCAG 2.1 AA, axe)', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: browser checks skipped` }, () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  before(async () => {
    t = await makeApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    await importOffices(t.app, OFFICES);
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R1', username: 'luca.bianchi', email: 'luca.bianchi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
    await nameReferent(t.app, 'DIP-ISTR', 'luca.bianchi');
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S1', givenName: 'Nicolò', familyName: 'Verdi', username: 'nicolo.verdi', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'nv@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'nicolo.verdi', PW) });
    const flow = (await me.start('mailbox-request')).body;
    await me.submit('mailbox-request', flow.id, { note: 'Nuovo ufficio' });
  });
  after(async () => {
    await browser?.close();
    await t.close();
  });

  async function violations(path: string, token?: string) {
    // The pages' CSP forbids inline scripts; only the checker itself is let in.
    const context = await browser.newContext({ locale: 'it-IT', bypassCSP: true });
    if (token) await context.addCookies([{ name: 'tessera_session', value: token, url: base }]);
    const page = await context.newPage();
    const res = await page.goto(`${base}${path}`);
    assert.equal(res?.status(), 200, path);
    await page.addScriptTag({ content: axeSource });
    const found = await page.evaluate(async () => {
      const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((v: { id: string; nodes: unknown[] }) => `${v.id} (${v.nodes.length})`);
    });
    await context.close();
    return found as string[];
  }

  it('the referent’s list with its approve and reject forms', async () => {
    const token = await sessionToken(t.app, 'luca.bianchi', PW);
    assert.deepEqual(await violations('/referent/requests', token), []);
  });

  it('the request form of school staff and the activation page', async () => {
    await seedAccount(t.ctx, { population: 'school_staff', externalId: 'T1', username: 'docente1', status: 'active', password: PW });
    assert.deepEqual(await violations('/flows/mailbox-request', await sessionToken(t.app, 'docente1', PW)), []);
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    const list = await ref.request('GET', '/api/v1/referent/requests');
    await ref.request('POST', `/api/v1/referent/requests/${list.body.requests[0].id}/approve`, {});
    const link = /http:\/\/localhost:3000(\/mailbox\/activate\?token=\S+)/.exec((await outbox(t.ctx, 'mailbox_activation'))[0]!.text)![1]!;
    assert.deepEqual(await violations(link), []);
  });

  async function axe(page: import('playwright-core').Page): Promise<string[]> {
    await page.addScriptTag({ content: axeSource });
    return page.evaluate(async () => {
      const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((v: { id: string; nodes: unknown[] }) => `${v.id} (${v.nodes.length})`);
    });
  }

  it('the activation page after a language switch and with errors; the referent page with an error', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S2', givenName: 'Elio', familyName: 'Sala', username: 'elio.sala', status: 'pending_activation', orgUnit: 'DIP-ISTR', personalEmail: 'es@example.net' });
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    assert.equal((await ref.request('POST', '/api/v1/referent/accounts/elio.sala/mailbox-link', {})).status, 200);
    const link = /http:\/\/localhost:3000(\/mailbox\/activate\?token=\S+)/.exec((await outbox(t.ctx, 'mailbox_activation')).find((m) => m.recipient === 'es@example.net')!.text)![1]!;
    const context = await browser.newContext({ locale: 'it-IT', bypassCSP: true });
    const page = await context.newPage();
    assert.equal((await page.goto(`${base}${link}`))?.status(), 200);
    // The language link, as a person follows it: the same form in English.
    const [switched] = await Promise.all([page.waitForNavigation(), page.click('a[hreflang="en"]')]);
    assert.equal(switched?.status(), 200);
    assert.equal(await page.textContent('h1'), 'Activate your mailbox');
    await page.fill('#f-newPassword', 'Posta-Nuova-2026');
    await page.fill('#f-newPasswordConfirm', 'Posta-Nuova-2027');
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"].primary')]);
    assert.equal(refused?.status(), 422);
    assert.match(await page.title(), /^Error: Activate your mailbox/);
    assert.equal(await page.getAttribute('#f-newPasswordConfirm', 'aria-invalid'), 'true');
    assert.deepEqual(await axe(page), []);
    await page.fill('#f-newPassword', 'Posta-Nuova-2026');
    await page.fill('#f-newPasswordConfirm', 'Posta-Nuova-2026');
    const [done] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"].primary')]);
    assert.equal(done?.status(), 200);
    assert.equal(await page.textContent('h1'), 'Your mailbox is active');
    await context.close();

    // A request to reject without a reason.
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S3', givenName: 'Rita', familyName: 'Moro', username: 'rita.moro', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'rm@example.net' });
    const me = apiClient(t.app, { bearer: await sessionToken(t.app, 'rita.moro', PW) });
    const flow = (await me.start('mailbox-request')).body;
    assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    const id = (await ref.request('GET', '/api/v1/referent/requests')).body.requests.find((r: { username: string }) => r.username === 'rita.moro').id;
    const refContext = await browser.newContext({ locale: 'it-IT', bypassCSP: true });
    await refContext.addCookies([{ name: 'tessera_session', value: await sessionToken(t.app, 'luca.bianchi', PW), url: base }]);
    const refPage = await refContext.newPage();
    await refPage.goto(`${base}/referent/requests`);
    const [rejected] = await Promise.all([refPage.waitForNavigation(), refPage.click(`form[action="/referent/requests/${id}/reject"] button`)]);
    assert.equal(rejected?.status(), 422);
    assert.match(await refPage.title(), /^Errore: /);
    assert.equal(await refPage.getAttribute(`[id="f-comment-${id}"]`, 'aria-invalid'), 'true');
    assert.equal(await refPage.getAttribute('.error-summary a', 'href'), `#f-comment-${id}`);
    assert.deepEqual(await axe(refPage), []);
    await refContext.close();
  });
});
