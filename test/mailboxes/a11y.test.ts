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
});
