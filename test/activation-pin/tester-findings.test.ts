import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FormBrowser } from '../helpers/clients.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { seedAccount } from '../helpers/fixtures.js';
import { formatTime } from '../../src/auth/credentials.js';
import { translate } from '../../src/i18n/index.js';
import { summarizeRecord } from '../../src/flows/activation-pin/record-summary.js';
import { findPerson } from '../../src/accounts/repository.js';
import { lastPinFor, makeAmka } from './helpers.js';

const errorSummary = (html: string) => /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0] ?? '';
const fieldErrors = (html: string) => [...html.matchAll(/<p class="field-error"[^>]*>([^<]*)<\/p>/g)].map((m) => m[1]!);

describe('activation-pin: findings from a browser test', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.activation.consents = [])) });
    const now = t.ctx.clock.now().toISOString();
    await t.ctx.db.kysely.insertInto('org_units').values({ code: 'DIP-ING', name: 'Dipartimento di Ingegneria', type: 'department', parent: null, created_at: now, updated_at: now }).execute();
  });
  after(() => t.close());

  const required = { en: 'This field is required', it: 'Campo obbligatorio', el: 'Το πεδίο είναι υποχρεωτικό' } as const;
  const oneOf = { en: /mobile phone, your personal email, or both/, it: /cellulare, l’email personale o entrambi/, el: /κινητό σας, το προσωπικό σας email ή και τα δύο/ } as const;

  for (const lang of ['en', 'it', 'el'] as const) {
    it(`an empty contact step asks for at least one contact, without calling either required (${lang})`, async () => {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/activation-pin');
      await b.submit({ mobile: '', email: '' });
      assert.equal(b.status, 422);
      assert.ok(!b.html.includes(required[lang]), 'no field is called required');
      const summary = errorSummary(b.html);
      assert.match(summary, oneOf[lang]);
      // One sentence, however many places show it.
      const texts = new Set([...fieldErrors(b.html), ...[...summary.matchAll(/<li>(?:<a[^>]*>)?([^<]*)/g)].map((m) => m[1]!.replace(/^[^:]*: /, ''))]);
      assert.equal(texts.size, 1, [...texts].join(' | '));
    });
  }

  it('the data-on-file page names the office, not its code', async () => {
    await seedAccount(t.ctx, { externalId: 'T7001', givenName: 'Marco', familyName: 'Ricci', orgUnit: 'DIP-ING', amka: makeAmka('150803', '7001'), birthDate: '2003-08-15', mobile: '+393471117001', status: 'pending_activation' });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/activation-pin');
    await b.submit({ mobile: '+393471117001', email: '' });
    await b.submit({ pin: await lastPinFor(t.app, '+393471117001') });
    const text = b.text();
    assert.match(text, /Dipartimento di Ingegneria/);
    assert.ok(!text.includes('DIP-ING'), 'the code is not shown when the name is known');
  });

  it('a school is named by its record; an unknown office falls back to its code', async () => {
    await seedAccount(t.ctx, { externalId: 'RMIC8A100X', population: 'school', givenName: '', familyName: 'Istituto Comprensivo Via Roma' });
    const teacher = await seedAccount(t.ctx, { externalId: 'T7002', population: 'school_staff', orgUnit: 'RMIC8A100X', mobile: '+393471117002' });
    const nowhere = await seedAccount(t.ctx, { externalId: 'T7003', orgUnit: 'DIP-XYZ', mobile: '+393471117003' });
    const personOf = async (r: unknown) => (await findPerson(t.ctx.db.kysely, (r as { personId: string }).personId))!;
    assert.deepEqual((await summarizeRecord(t.ctx.db.kysely, await personOf(teacher))).orgUnit, { code: 'RMIC8A100X', name: 'Istituto Comprensivo Via Roma' });
    assert.deepEqual((await summarizeRecord(t.ctx.db.kysely, await personOf(nowhere))).orgUnit, { code: 'DIP-XYZ', name: null });
  });

  it('the "valid until" sentence never ends with two full stops', async () => {
    // Greek times end with "π.μ." / "μ.μ.".
    for (const lang of ['en', 'it', 'el'] as const) {
      for (const iso of ['2026-12-07T04:25:00Z', '2026-12-07T16:25:00Z']) {
        const s = translate(lang, 'flow.expiresAt', { time: formatTime(new Date(iso), lang, 'Europe/Athens') });
        assert.ok(!s.includes('..'), `${lang}: ${s}`);
      }
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/activation-pin');
      const expires = /<p class="muted small expires">([^<]*)<\/p>/.exec(b.html)?.[1] ?? '';
      assert.ok(expires.length > 0);
      assert.ok(!expires.includes('..'), `${lang}: ${expires}`);
    }
  });
});
