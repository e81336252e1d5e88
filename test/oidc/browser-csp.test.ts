import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { authorize, PASSWORD, rpConfig, seedPerson, startWorld, type OidcWorld } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: the real-browser single sign-on test is skipped`;

/**
 * The site sends `form-action 'self'`, and browsers check it against every redirect that follows
 * a form submission. A real browser signs in to a service and signs out of it: neither is blocked.
 */
describe('single sign-on in a real browser (Content-Security-Policy)', { skip }, () => {
  let w: OidcWorld;
  let browser: Browser;
  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S400001');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await w?.close();
  });

  it('the login form leads back to the service, and the sign-out form too, with no policy violation', async () => {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail');
    const page = await browser.newPage({ locale: 'en-GB' });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|violates/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(req.url);
    assert.match(page.url(), /\/flows\/login\//);
    await page.fill('input[name="username"]', 'S400001');
    await page.fill('input[name="password"]', PASSWORD);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${w.rp.base}/webmail/cb`), { timeout: 15_000 }), page.click('button[value="submit"]')]);
    const cb = new URL(page.url());
    assert.ok(cb.searchParams.get('code'), 'the service received a code');
    assert.equal(cb.searchParams.get('state'), req.state);

    await page.goto(`${w.issuer}/oidc/session/end?client_id=webmail&post_logout_redirect_uri=${encodeURIComponent(`${w.rp.base}/webmail/bye`)}`);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${w.rp.base}/webmail/bye`), { timeout: 15_000 }), page.click('button[value="yes"]')]);
    assert.deepEqual(violations, []);
    await page.close();
  });

  it('response_mode=form_post reaches the service: the page posts the code on its own', async () => {
    const config = await rpConfig(w, 'webmail');
    const req = await authorize(w, config, 'webmail', { response_mode: 'form_post' });
    const page = await browser.newPage({ locale: 'en-GB' });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|violates/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(req.url);
    await page.fill('input[name="username"]', 'S400001');
    await page.fill('input[name="password"]', PASSWORD);
    const before = w.rp.posted.length;
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${w.rp.base}/webmail/cb`), { timeout: 15_000 }), page.click('button[value="submit"]')]);
    assert.equal(w.rp.posted.length, before + 1, 'the service received a form post');
    const answer = w.rp.posted.at(-1)!;
    assert.ok(answer.get('code'));
    assert.equal(answer.get('state'), req.state);
    assert.deepEqual(violations, []);
    await page.close();
  });

  it('signing out with no session at the provider reaches the service on its own: the page posts to the sign-out step', async () => {
    const page = await browser.newPage({ locale: 'el-GR' });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|violates/i.test(m.text())) violations.push(m.text());
    });
    const seen: string[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${w.issuer}/oidc/session/end?`)) seen.push(r.url());
    });
    const bye = `${w.rp.base}/webmail/bye`;
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(bye), { timeout: 15_000 }),
      page.goto(`${w.issuer}/oidc/session/end?client_id=webmail&post_logout_redirect_uri=${encodeURIComponent(bye)}&state=js`),
    ]);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'js');
    assert.equal(seen.length, 1);
    assert.deepEqual(violations, []);
    await page.close();
  });
});
