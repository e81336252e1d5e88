import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { translate } from '../../src/i18n/index.js';
import { details, verificationLink } from './outbox.js';

const registrationForm = (over: Record<string, string> = {}) => {
  const d = details();
  return { username: d.username, password: d.password, passwordConfirm: d.passwordConfirm, givenName: d.givenName, familyName: d.familyName, birthDate: d.birthDate, mobile: d.mobile, email: d.email, registrantType: 'person', consents: 'true', ...over };
};

/** The href of the page's language link to `lang`, as the browser would follow it. */
const langLink = (html: string, lang: string): string => {
  const m = new RegExp(`<a href="([^"]*)" lang="${lang}"`).exec(html);
  assert.ok(m, `no link to ${lang}`);
  return m[1]!.replace(/&amp;/g, '&');
};

describe('texts of the registration and recovery pages', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('the reset-code page says once, filled in, how long the code is valid', async () => {
    await seedAccount(t.ctx, { externalId: 'R1', population: 'external', username: 'reset.me', email: 'reset.me@example.org', personalEmail: 'reset.me@example.org', status: 'active', password: 'Whatever-12' });
    for (const [lang, valid] of [['en', /valid for 15 minutes/g], ['it', /valido per 15 minuti/g], ['el', /ισχύει για 15 λεπτά/g]] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/password-reset');
      await b.submit({ identifier: 'reset.me' });
      assert.equal(b.status, 200);
      assert.match(b.url, /\/flows\/password-reset\//);
      assert.doesNotMatch(b.text(), /\{\w+\}/, `${lang}: a placeholder is shown`);
      assert.equal(b.text().match(valid)?.length, 1, `${lang}: ${b.text()}`);
    }
  });

  it('switching language on an opened activation link keeps what the link did, without the token', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    await b.submit(registrationForm({ username: 'lang.switch', email: 'lang.switch@example.org' }));
    const link = await verificationLink(t.ctx, 'lang.switch@example.org');
    await b.get(link.path);
    assert.equal(b.status, 200);
    assert.match(b.text(), /lang\.switch/);
    const toItalian = langLink(b.html, 'it');
    assert.doesNotMatch(b.html, new RegExp(link.token));
    await b.get(toItalian);
    assert.equal(b.status, 200, b.text());
    assert.match(b.text(), new RegExp(translate('it', 'registration.verifiedTitle')));
    assert.match(b.text(), /Accedi con il nome utente lang\.switch/);
    assert.doesNotMatch(b.html, new RegExp(link.token));
    await b.get(langLink(b.html, 'el'));
    assert.equal(b.status, 200);
    assert.match(b.text(), new RegExp(translate('el', 'registration.verifiedTitle')));

    // Another browser (or a forged cookie) has nothing to show again: the bare path is not valid.
    const other = new FormBrowser(t.app, 'it');
    await other.get(toItalian);
    assert.equal(other.status, 422);
    other.cookies.set('tessera_link', `${Buffer.from(JSON.stringify({ r: { kind: 'registration', ok: true, username: 'someone' }, exp: Date.now() * 2 })).toString('base64url')}.forged`);
    await other.get(toItalian);
    assert.equal(other.status, 422);
    assert.doesNotMatch(other.text(), /someone/);

    // An expired link still reads "expired" in the other language.
    const late = new FormBrowser(t.app, 'en');
    await late.get('/flows/registration');
    await late.submit(registrationForm({ username: 'late.switch', email: 'late.switch@example.org' }));
    const lateLink = await verificationLink(t.ctx, 'late.switch@example.org');
    t.clock.advance(24 * 3_600_000 + 1000);
    await late.get(lateLink.path);
    assert.equal(late.status, 410);
    await late.get(langLink(late.html, 'it'));
    assert.equal(late.status, 410);
    assert.match(late.text(), new RegExp(translate('it', 'registration.expiredTitle')));
  });

  it('the API gives field hints and labels as text in the caller’s language', async () => {
    const keyLike = /^[a-z-]+\.[A-Za-z_.-]+$/;
    const c = apiClient(t.app, { lang: 'it' });
    const reg = (await c.start('registration')).body;
    const hint = (fields: Array<{ name: string; hint?: string }>, name: string) => fields.find((f) => f.name === name)?.hint;
    assert.equal(hint(reg.fields, 'username'), translate('it', 'registration.usernameHelp'));
    assert.equal(hint(reg.fields, 'mobile'), translate('it', 'registration.mobileHelp'));
    assert.equal(hint(reg.fields, 'email'), translate('it', 'registration.emailHelp'));
    const sent = await c.submit('registration', reg.id, details({ username: 'hint.user', email: 'hint.user@example.org' }));
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(hint(sent.body.fields, 'token'), translate('it', 'registration.tokenHelp'));
    const login = (await apiClient(t.app, { lang: 'el' }).start('login')).body;
    assert.equal(hint(login.fields, 'username'), translate('el', 'login.usernameHelp'));
    assert.equal(hint(login.fields, 'password'), translate('el', 'form.showPassword'));
    for (const f of [...reg.fields, ...sent.body.fields, ...login.fields] as Array<{ hint?: string; label?: string }>) {
      if (f.hint) assert.doesNotMatch(f.hint, keyLike);
      if (f.label) assert.doesNotMatch(f.label, keyLike);
    }
  });

  it('the step confirming a new address names its code a confirmation code and says where it is (it, en, el)', async () => {
    await seedAccount(t.ctx, { externalId: 'E7', population: 'external', username: 'new.mail', email: 'new.mail@example.org', personalEmail: 'new.mail@example.org', status: 'active', password: 'Whatever-12' });
    for (const [lang, label, where] of [
      ['it', 'Codice di conferma', 'Puoi anche incollare il codice che segue “token=” nel link.'],
      ['en', 'Confirmation code', 'You can also paste the code that follows “token=” in the link.'],
      ['el', 'Κωδικός επιβεβαίωσης', 'Μπορείτε επίσης να επικολλήσετε τον κωδικό που ακολουθεί το «token=» στον σύνδεσμο.'],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/login');
      await b.submit({ username: 'new.mail', password: 'Whatever-12' });
      await b.get('/flows/email-change');
      await b.submit({ email: `new.mail.${lang}@example.org` });
      assert.equal(b.status, 200);
      assert.match(b.html, new RegExp(`<label for="f-token">${label}</label>`));
      assert.match(b.html, new RegExp(`<p class="hint" id="f-token-hint">${where.replace(/[.“”«»]/g, '.')}</p>`));
      assert.match(b.html, /<input[^>]*id="f-token"[^>]*aria-describedby="f-token-hint"/);
      // Not an activation: the account is active already.
      assert.doesNotMatch(b.text(), /attivazione|Activation code|ενεργοποίησης/);
    }
  });

  it('the account page labels an external user’s address as the registered one, a student’s mailbox as institutional', async () => {
    await seedAccount(t.ctx, { externalId: 'E9', population: 'external', username: 'ext.user', email: 'ext.user@example.org', personalEmail: 'ext.user@example.org', status: 'active', password: 'Whatever-12' });
    await seedAccount(t.ctx, { externalId: '20269999', population: 'student', username: '20269999', email: '20269999@studenti.example.org', personalEmail: 'stud@example.org', status: 'active', password: 'Whatever-12' });
    for (const [username, institutional] of [['ext.user', false], ['20269999', true]] as const) {
      const b = new FormBrowser(t.app, 'en');
      await b.get('/flows/login');
      await b.submit({ username, password: 'Whatever-12' });
      assert.match(b.url, /\/account/);
      const dt = [...b.html.matchAll(/<dt>([^<]*)<\/dt>/g)].map((m) => m[1]);
      assert.equal(dt.includes('Institutional address'), institutional, dt.join(' | '));
      assert.ok(dt.includes('Registered email'), dt.join(' | '));
    }
  });
});
