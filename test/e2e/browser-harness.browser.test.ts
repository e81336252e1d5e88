import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCleanConsole, browserSkip, checkAxe, startBrowserApp, type BrowserApp } from '../helpers/browser.js';

/** The browser harness itself: its checks must catch what they exist to catch. */
describe('browser harness', { skip: browserSkip }, () => {
  let b: BrowserApp;
  before(async () => {
    b = await startBrowserApp();
  });
  after(() => b?.close());

  it('checkAxe lists each violation with its rule and element', async () => {
    const page = await b.newPage();
    await page.goto('/');
    await checkAxe(page, 'home');
    // Break the page the way a careless view could: an unlabelled field, an image without text.
    await page.evaluate(() => {
      const main = document.querySelector('main')!;
      const input = document.createElement('input');
      input.id = 'nameless';
      main.append(input);
      const img = document.createElement('img');
      img.src = '/assets/icon.svg';
      main.append(img);
    });
    await assert.rejects(checkAxe(page, 'broken home'), (e: Error) => {
      assert.match(e.message, /on broken home/);
      assert.match(e.message, /- label \(critical\)/);
      assert.match(e.message, /#nameless/);
      assert.match(e.message, /- image-alt/);
      return true;
    });
  });

  it('the pages run under a strict CSP, and assertCleanConsole reports what it refuses', async () => {
    const page = await b.newPage();
    const res = await page.goto('/');
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'.*style-src 'self'/);
    assertCleanConsole(page);
    await page.evaluate(() => {
      document.querySelector('main')!.insertAdjacentHTML('beforeend', '<p style="color: red">inline</p>');
    });
    await page.waitForTimeout(100);
    assert.throws(() => assertCleanConsole(page), /inline style violates the following Content Security Policy directive 'style-src 'self''/);
  });
});
