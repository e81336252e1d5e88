import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { lastMessage } from './outbox.js';

const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1]!;
const lead = (html: string) => /<p class="lead">([^<]*)<\/p>/.exec(html)?.[1] ?? '';

describe('password reset: each step shows its own instruction', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    for (const lang of ['en', 'it', 'el']) {
      await seedAccount(t.ctx, { externalId: `ext-${lang}`, population: 'external', username: `anna.${lang}`, email: `anna.${lang}@example.org`, personalEmail: `anna.${lang}@example.org`, status: 'active', password: 'Vecchia-Pass-99' });
    }
  });
  after(() => t.close());

  const expected = {
    en: { first: /username or the email address/, password: /Choose a new password for your account/ },
    it: { first: /nome utente o l’indirizzo email/, password: /Scegli una nuova password per il tuo account/ },
    el: { first: /όνομα χρήστη ή τη διεύθυνση email/, password: /Επιλέξτε νέο κωδικό πρόσβασης για τον λογαριασμό σας/ },
  } as const;

  for (const lang of ['en', 'it', 'el'] as const) {
    it(`the new-password page does not repeat the first step's text (${lang})`, async () => {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/password-reset');
      assert.match(lead(b.html), expected[lang].first);
      t.clock.advance(1000);
      await b.submit({ identifier: `anna.${lang}` });
      const code = codeIn((await lastMessage(t.ctx, `anna.${lang}@example.org`, 'password_reset'))!.text);
      await b.submit({ code });
      assert.match(b.html, /name="passwordConfirm"/);
      assert.match(lead(b.html), expected[lang].password);
      assert.doesNotMatch(lead(b.html), expected[lang].first);
    });
  }
});
