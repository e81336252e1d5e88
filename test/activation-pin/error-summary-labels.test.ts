import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FormBrowser } from '../helpers/clients.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { seedAccount } from '../helpers/fixtures.js';
import { lastPinFor, makeAmka } from './helpers.js';

const decode = (s: string) => s.replace(/&#x27;|&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The error summary's links: the field each leads to and what it says. */
const summaryLinks = (html: string) =>
  [...(/<div class="error-summary"[^>]*role="alert"[\s\S]*?<\/div>/.exec(html)?.[0] ?? '').matchAll(/<a href="#([^"]+)">([^<]*)<\/a>/g)].map((m) => ({ target: m[1]!, text: decode(m[2]!) }));

/** The label a field shows (without the "(optional)" mark). */
function labelOf(html: string, id: string): string {
  const m = new RegExp(`<label for="${escape(id)}">([\\s\\S]*?)</label>`).exec(html);
  assert.ok(m, `a label for ${id}`);
  return decode(m[1]!.replace(/<span class="optional">[\s\S]*?<\/span>/, '').replace(/<[^>]+>/g, '')).trim();
}

/** Each summary link names its field as the field's own label does. */
function assertSummaryUsesLabels(html: string) {
  const links = summaryLinks(html);
  assert.ok(links.length > 0, 'a summary with links');
  for (const l of links) assert.ok(l.text.startsWith(`${labelOf(html, l.target)}: `), `"${l.text}" starts with the label of #${l.target} ("${labelOf(html, l.target)}")`);
}

describe('activation-pin: the error summary names fields by their labels', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.activation.consents = [{ id: 'terms', version: '2026-09', required: true, text: { en: 'I accept the terms of use', it: 'Accetto le condizioni d’uso', el: 'Αποδέχομαι τους όρους χρήσης' } }];
      }),
    });
  });
  after(() => t.close());

  for (const [lang, label, shared] of [
    ['it', 'Email personale', 'Indirizzo email'],
    ['en', 'Personal email', 'Email address'],
    ['el', 'Προσωπικό email', 'Διεύθυνση email'],
  ] as const) {
    it(`the contact step's email is the "${label}" of its field (${lang})`, async () => {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/activation-pin');
      await b.submit({ mobile: '', email: 'non-valida' });
      assert.equal(b.status, 422);
      assert.equal(labelOf(b.html, 'f-email'), label);
      const links = summaryLinks(b.html);
      assert.equal(links.length, 1, JSON.stringify(links));
      assert.equal(links[0]!.target, 'f-email');
      assert.ok(links[0]!.text.startsWith(`${label}: `), links[0]!.text);
      assert.ok(!b.html.includes(shared), `the shared label "${shared}" is not used`);
      assertSummaryUsesLabels(b.html);
    });
  }

  it('a consent is named by its text, the data confirmation by its label (it, en)', async () => {
    for (const [lang, n, consent] of [
      ['it', 1, 'Accetto le condizioni d’uso'],
      ['en', 2, 'I accept the terms of use'],
    ] as const) {
      const mobile = `+39347111800${n}`;
      await seedAccount(t.ctx, { externalId: `T800${n}`, givenName: 'Marco', familyName: 'Ricci', amka: makeAmka('150803', `800${n}`), birthDate: '2003-08-15', mobile, status: 'pending_activation' });
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/activation-pin');
      await b.submit({ mobile, email: '' });
      await b.submit({ pin: await lastPinFor(t.app, mobile) });
      assert.match(b.html, /name="dataAccurate"/, b.text().slice(0, 400));
      await b.submit({});
      assert.equal(b.status, 422);
      const links = summaryLinks(b.html);
      assert.deepEqual(links.map((l) => l.target).sort(), ['f-consents.terms', 'f-dataAccurate']);
      assert.ok(links.find((l) => l.target === 'f-consents.terms')!.text.startsWith(`${consent}: `), JSON.stringify(links));
      assertSummaryUsesLabels(b.html);
    }
  });
});
