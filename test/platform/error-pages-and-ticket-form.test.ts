import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { makeApp, type TestApp } from '../helpers/app.js';

const title = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';
const facts = (html: string) => /<dl class="facts">([\s\S]*?)<\/dl>/.exec(html)?.[1] ?? '';
/** The address of the language switcher's link to `lang`. */
const langLink = (html: string, lang: string) => [...html.matchAll(/<a href="([^"]+)" lang="(\w+)"/g)].find((m) => m[2] === lang)?.[1]?.replace(/&amp;/g, '&');

describe('error pages, error states and the helpdesk form, as people read them', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const prefill = '/helpdesk/tickets/new?flow=login&state=awaiting_credentials&code=auth.invalid_credentials&reference=req-42&time=2026-12-07T04:04:32.436Z';

  it('the ticket form shows the failure translated, and stores the raw values', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get(prefill);
    assert.equal(b.status, 200);
    assert.match(b.text(), /The details below help us find the problem/);
    // Opened without a failure's details, the form does not speak of details below.
    const plain = new FormBrowser(t.app, 'en');
    await plain.get('/helpdesk/tickets/new');
    assert.doesNotMatch(plain.text(), /details below/);
    assert.match(plain.text(), /Never write your PIN or password here/);
    const dl = facts(b.html);
    assert.match(dl, /Sign in/);
    assert.match(dl, /Invalid username or password/);
    assert.match(dl, /07\/12\/2026, 05:04/, 'the time in Rome time, formatted for the page language');
    assert.match(dl, /req-42/);
    for (const raw of ['awaiting_credentials', 'auth.invalid_credentials', '2026-12-07T04', '>login<']) assert.ok(!dl.includes(raw), `no raw ${raw}`);
    // The raw values travel as hidden fields (the test browser sends only what it is given).
    const hidden = Object.fromEntries([...b.html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    assert.equal(hidden.state, 'awaiting_credentials');
    await b.submit({ ...hidden, contact: 'student@example.org', message: 'I cannot sign in' }, { formAction: /helpdesk/ });
    assert.equal(b.status, 201);
    // In another language the confirmation keeps the ticket's number (and does not show the contact by number).
    const number = /T-[A-Z0-9]{6}/.exec(b.html)![0];
    const greek = await t.app.inject({ method: 'GET', url: langLink(b.html, 'el')! });
    assert.equal(greek.statusCode, 200);
    assert.match(greek.body, new RegExp(`Ο αριθμός του αιτήματός σας είναι ${number}`));
    assert.ok(!greek.body.includes('student@example.org'));
    assert.equal((await t.app.inject({ method: 'GET', url: '/helpdesk/tickets/sent?id=T-NOSUCH' })).statusCode, 404);
    const list = await apiClient(t.app).request('GET', '/api/v1/admin/tickets', undefined, adminHeaders);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const ticket = list.body.tickets.find((x: { reference: string }) => x.reference === 'req-42');
    assert.equal(ticket.flow, 'login');
    assert.equal(ticket.state, 'awaiting_credentials');
    assert.equal(ticket.code, 'auth.invalid_credentials');
    assert.equal(ticket.time, '2026-12-07T04:04:32.436Z');
  });

  it('the ticket form in Italian and Greek', async () => {
    const it_ = await new FormBrowser(t.app, 'it').get(prefill);
    assert.match(facts(it_.html), /Accedi/);
    assert.match(facts(it_.html), /07\/12\/(20)?26, 05:04/);
    const el = await new FormBrowser(t.app, 'el').get(prefill);
    assert.match(facts(el.html), /Σύνδεση/);
  });

  it('the ticket form, sent empty, names the fields in its summary and says so in the title', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get(prefill);
    const hidden = Object.fromEntries([...b.html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    await b.submit({ ...hidden, contact: '', message: '' }, { formAction: /helpdesk/ });
    assert.equal(b.status, 422);
    const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(b.html)?.[0] ?? '';
    assert.match(summary, /Your email or mobile phone: This field is required\./);
    assert.match(summary, /What happened\?: This field is required\./);
    assert.match(title(b.html), /^Error: Open a helpdesk ticket · /);
    // Each field's error after its label, announced as an error, as on the flows' forms.
    assert.match(b.html, /<\/label><p class="field-error" id="f-message-err"><span class="visually-hidden">Error: <\/span>This field is required\.<\/p><textarea/);
    // Its language links lead to the form again, with the failure's context.
    const italian = await new FormBrowser(t.app, 'en').get(langLink(b.html, 'it')!);
    assert.equal(italian.status, 200);
    assert.match(facts(italian.html), /Accedi/);
    assert.match(facts(italian.html), /req-42/);
  });

  it('the ticket form tells a contact that is neither an address nor a phone number together with the other mistakes', async () => {
    const b = new FormBrowser(t.app, 'it');
    await b.get(prefill);
    const hidden = Object.fromEntries([...b.html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    await b.submit({ ...hidden, contact: 'giulia', message: '' }, { formAction: /helpdesk/ });
    assert.equal(b.status, 422);
    const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(b.html)?.[0] ?? '';
    const items = [...summary.matchAll(/<a href="#f-(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(items, ['contact', 'message']);
    // The same through the API.
    const api = await apiClient(t.app, { lang: 'el' }).request('POST', '/api/v1/tickets', { contact: '12', message: '' });
    assert.equal(api.status, 422);
    assert.deepEqual(api.body.error.fields, { contact: 'field.invalid', message: 'field.required' });
    const list = await apiClient(t.app).request('GET', '/api/v1/admin/tickets', undefined, adminHeaders);
    assert.ok(!list.body.tickets.some((x: { contact: string }) => x.contact === '12' || x.contact === 'giulia'));
  });

  it('a refused form (CSRF) offers to start again: the flow when the path names it, else home', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/login');
    await b.submit({ username: 'x', password: 'y' }, { csrf: 'forged' });
    assert.equal(b.status, 403);
    assert.match(b.html, /<a class="button primary" href="\/flows\/login">Start again<\/a>/);
    const h = new FormBrowser(t.app, 'it');
    await h.get('/helpdesk/tickets/new');
    await h.submit({ contact: 'a@example.org', message: 'x' }, { formAction: /helpdesk/, csrf: 'forged' });
    assert.equal(h.status, 403);
    assert.match(h.html, /<a class="button primary" href="\/">Ricomincia<\/a>/);
  });

  it('the 404 page links home and to the helpdesk', async () => {
    const b = await new FormBrowser(t.app, 'en').get('/no-such-page');
    assert.equal(b.status, 404);
    assert.match(b.html, /<a class="button primary" href="\/">Go to the home page<\/a>/);
    assert.match(b.html, /href="\/helpdesk\/tickets\/new\?code=not_found/);
    const el = await new FormBrowser(t.app, 'el').get('/no-such-page');
    assert.match(el.html, /Μετάβαση στην αρχική σελίδα/);
  });

  it('the 404 page says what is missing in a sentence, not "Not found." under "Page not found" (it, en, el)', async () => {
    for (const [lang, lead, bare] of [
      ['it', 'La pagina richiesta non esiste.', 'Non trovato.'],
      ['en', 'The page you asked for does not exist.', 'Not found.'],
      ['el', 'Η σελίδα που ζητήσατε δεν υπάρχει.', 'Δεν βρέθηκε.'],
    ] as const) {
      const b = await new FormBrowser(t.app, lang).get('/no-such-page');
      assert.equal(b.status, 404);
      assert.match(b.html, new RegExp(`<p class="lead">${lead}</p>`));
      assert.ok(!b.text().includes(bare), b.text());
    }
    // The API keeps its message.
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/no-such-thing', headers: { 'accept-language': 'en' } });
    assert.equal(api.json().error.message, 'Not found.');
  });

  it('the flow page: wrong credentials are a plain alert, field errors are under the summary heading', async () => {
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/login');
    assert.match(title(b.html), /^Sign in · /);
    await b.submit({ username: 'nobody', password: 'Wrong-pass-1' });
    assert.match(b.text(), /Invalid username or password/);
    assert.ok(!b.text().includes('Please correct the following'), 'no "correct the following" for a problem no field fixes');
    assert.match(b.html, /class="error-summary error-alert" role="alert"/);
    assert.match(title(b.html), /^Error: Sign in · /);
    await b.submit({ username: '', password: '' });
    assert.match(b.text(), /Please correct the following: Username: /);
    assert.match(title(b.html), /^Error: Sign in · /);
    const it_ = new FormBrowser(t.app, 'it');
    await it_.get('/flows/login');
    await it_.submit({ username: '', password: '' });
    assert.match(title(it_.html), /^Errore: Accedi · /);
  });
});
