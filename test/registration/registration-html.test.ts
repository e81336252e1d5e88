import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { FormBrowser } from '../helpers/clients.js';
import { details, messageCount, verificationLink } from './outbox.js';

const form = (over: Record<string, string> = {}) => {
  const d = details();
  return { username: d.username, password: d.password, passwordConfirm: d.passwordConfirm, givenName: d.givenName, familyName: d.familyName, birthDate: d.birthDate, mobile: d.mobile, email: d.email, registrantType: 'person', consents: 'true', ...over };
};

describe('registration in the browser (no JavaScript)', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('registers, corrects the address, is refused at login with a resend offer, activates by the link', async () => {
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/registration');
    assert.match(b.text(), /Registrati/);
    // A wrong input re-renders with the message, keeps what was typed, never echoes the password.
    await b.submit(form({ email: 'sbagliato' }));
    assert.equal(b.status, 422);
    assert.match(b.text(), /Inserisci un indirizzo email valido/);
    assert.match(b.html, /value="mario.bianchi"/);
    assert.doesNotMatch(b.html, /Lago-Maggiore-71/);
    // Switching the language there keeps what was typed (kept encrypted; never the password).
    const langLink = (lang: string) => [...b.html.matchAll(/<a href="([^"]+)" lang="(\w+)"/g)].find((m) => m[2] === lang)![1]!.replace(/&amp;/g, '&');
    assert.ok(!b.cookies.get('tessera_draft')?.includes('mario'));
    await b.get(langLink('el'));
    assert.equal(b.status, 200);
    assert.match(b.html, /<html lang="el"/);
    assert.match(b.html, /value="mario.bianchi"/);
    assert.match(b.html, /value="sbagliato"/);
    assert.doesNotMatch(b.html, /Lago-Maggiore-71/);
    await b.get(langLink('it'));
    await b.submit(form({ email: 'mario@exampel.org' }));
    assert.equal(b.status, 200);
    assert.ok(!b.cookies.has('tessera_draft'), 'gone once the step is done');
    assert.match(b.text(), /Abbiamo inviato il link di attivazione a mario@exampel\.org/);
    t.clock.advance(61_000);
    await b.submit({ email: 'mario@example.org' }, { action: 'change_email' });
    assert.match(b.text(), /Una nuova email è in arrivo a mario@example\.org/);

    const l = new FormBrowser(t.app, 'it');
    await l.get('/flows/login');
    await l.submit({ username: 'mario.bianchi', password: 'Lago-Maggiore-71' });
    assert.equal(l.status, 403);
    assert.match(l.text(), /La registrazione non è ancora confermata/);
    assert.match(l.html, /name="action" value="resend_verification"/);
    const before = await messageCount(t.ctx, 'mario@example.org', 'email_verification');
    t.clock.advance(61_000);
    await l.submit({}, { action: 'resend_verification' });
    assert.match(l.text(), /Un nuovo link di attivazione è in arrivo a mario@example\.org/);
    assert.equal(await messageCount(t.ctx, 'mario@example.org', 'email_verification'), before + 1);

    const link = await verificationLink(t.ctx, 'mario@example.org');
    await b.get(link.path);
    assert.equal(b.status, 200);
    assert.match(b.text(), /Le tue credenziali sono attive/);
    assert.doesNotMatch(b.html, new RegExp(link.token));
    // The flow page now shows the completed registration too.
    const flows = await t.ctx.db.kysely.selectFrom('flows').select(['state', 'data']).where('kind', '=', 'registration').execute();
    assert.ok(flows.some((f) => f.state === 'completed' && /"r":\{"username":"mario.bianchi","status":"active"\}/.test(f.data)), JSON.stringify(flows));
    await l.get('/flows/login');
    await l.submit({ username: 'mario.bianchi', password: 'Lago-Maggiore-71' });
    assert.equal(l.status, 200);
    assert.match(l.url, /\/account/);
    // A second click says it is active, still.
    await b.get(link.path);
    assert.equal(b.status, 200);
  });

  it('one submission shows every invalid field: email, mobile, password and consent', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    const { consents: _unticked, ...rest } = form({ username: 'all.at.once', email: 'not-an-email', mobile: 'abc', password: 'short', passwordConfirm: 'short' });
    await b.submit(rest);
    assert.equal(b.status, 422);
    const text = b.text();
    assert.match(text, /Enter a valid email address/);
    assert.match(text, /Enter a valid phone number/);
    assert.match(text, /The password does not meet the rules/);
    assert.match(text, /At least \d+ characters/);
    assert.match(text, /You must accept the privacy notice/);
    assert.match(b.html, /value="all.at.once"/);
  });

  it('the error summary lists the problems in the order of the fields on the page', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    const { consents: _unticked, ...rest } = form({ username: 'A b', email: 'not-an-email', mobile: 'abc', birthDate: '1990-02-30', password: 'short', passwordConfirm: 'other' });
    await b.submit(rest);
    assert.equal(b.status, 422);
    const summary = /<div class="error-summary"[\s\S]*?<\/ul>/.exec(b.html)![0];
    const targets = [...summary.matchAll(/<a href="#f-([A-Za-z.]+)">/g)].map((m) => m[1]!);
    const fields = [...b.html.matchAll(/<(?:input|select|textarea)[^>]*\sid="f-([A-Za-z.]+)"/g)].map((m) => m[1]!);
    const order = targets.map((f) => fields.indexOf(f));
    assert.ok(order.every((i) => i >= 0), targets.join(' '));
    assert.deepEqual(order, [...order].sort((x, y) => x - y), `summary: ${targets.join(' ')}; page: ${fields.join(' ')}`);
    assert.ok(targets.includes('username') && targets.includes('consents') && targets.includes('password'));
  });

  it('a date of birth in the future is said to be wrong as a date of birth, not to be in the wrong format (it, en, el)', async () => {
    for (const [lang, said] of [
      ['it', 'Inserisci una data di nascita reale, nel passato.'],
      ['en', 'Enter a real date of birth, in the past.'],
      ['el', 'Δώστε μια πραγματική ημερομηνία γέννησης, στο παρελθόν.'],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/registration');
      await b.submit(form({ username: `future.${lang}`, email: `future.${lang}@example.org`, birthDate: '2099-04-12' }));
      assert.equal(b.status, 422);
      assert.match(b.html, new RegExp(`<a href="#f-birthDate">[^<]*: ${said.replace(/\./g, '\\.')}</a>`));
      assert.doesNotMatch(b.text(), /AAAA-MM-GG|YYYY-MM-DD|ΕΕΕΕ-ΜΜ-ΗΗ/);
    }
  });

  it('taken email points to recovery; closed categories show the institution’s message', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    await b.submit(form({ username: 'someone.else', email: 'Mario@example.org' }));
    assert.equal(b.status, 422);
    assert.match(b.text(), /already registered/);
    assert.match(b.html, /href="\/flows\/username-recovery"/);
    assert.match(b.html, /href="\/flows\/password-reset"/);
    await b.submit(form({ username: 'acme.srl', email: 'acme@example.org', registrantType: 'company' }));
    assert.equal(b.status, 403);
    assert.match(b.text(), /Since March 2015 businesses/);
  });

  it('after 24 hours the link says the registration expired and offers to register again', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    await b.submit(form({ username: 'slow.user', email: 'slow@example.org' }));
    const link = await verificationLink(t.ctx, 'slow@example.org');
    t.clock.advance(24 * 3_600_000 + 1);
    await b.get(link.path);
    assert.equal(b.status, 410);
    assert.match(b.text(), /This registration has expired/);
    assert.match(b.html, /href="\/flows\/registration"/);
    await b.get('/flows/registration');
    await b.submit(form({ username: 'slow.user', email: 'slow@example.org' }));
    assert.equal(b.status, 200);
  });

  it('a link that is not valid has a short title, says why once and offers a way on (it, en, el)', async () => {
    for (const [lang, title, said] of [
      ['it', 'Questo link non è valido', /Il link o il codice di attivazione non è valido/],
      ['en', 'This link is not valid', /This activation link or code is not valid/],
      ['el', 'Ο σύνδεσμος δεν είναι έγκυρος', /Ο σύνδεσμος ή ο κωδικός ενεργοποίησης δεν είναι έγκυρος/],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/verify-email?token=not.valid');
      assert.equal(b.status, 422);
      assert.match(b.html, new RegExp(`<title>${title} · `));
      assert.match(b.html, new RegExp(`<h1>${title}</h1>`));
      // The reason is said once, as the alert, not again as the title and the heading.
      assert.equal(b.text().split(said.source).length - 1, 1, b.text());
      assert.match(b.html, /<p role="alert">/);
      assert.match(b.html, /<main[\s\S]*href="\/flows\/login"[\s\S]*<\/main>/);
    }
  });

  it('a registration past its lifetime says so on its page, in the title and the lead', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    await b.submit(form({ username: 'too.late', email: 'too.late@example.org' }));
    assert.equal(b.status, 200);
    const page = b.url;
    t.clock.advance(25 * 3_600_000);
    await b.get(page);
    assert.match(b.html, /<h1>Registration expired<\/h1>/);
    assert.match(b.text(), /was not confirmed in time/);
    assert.doesNotMatch(b.text(), /email we have just sent/);
    assert.match(b.html, /href="\/flows\/registration"/);
  });
});
