import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken } from './helpers.js';

const PW = 'Vecchia-Pass1';

/** The attributes of the element with `id` (its opening tag), or null when no element has it. */
function element(html: string, id: string): { tag: string; attrs: Record<string, string> } | null {
  const m = new RegExp(`<([a-z]+)((?:\\s[^>]*)?\\sid="${id.replace(/[-.]/g, '\\$&')}"(?:\\s[^>]*)?)>`).exec(html);
  if (!m) return null;
  const attrs: Record<string, string> = {};
  for (const a of m[2]!.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) attrs[a[1]!] = a[2] ?? '';
  return { tag: m[1]!, attrs };
}

/** The text of the element with `id` (tags removed). */
function textOf(html: string, id: string): string {
  const m = new RegExp(`<([a-z0-9]+)[^>]*\\sid="${id.replace(/[-.]/g, '\\$&')}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return m ? m[2]!.replace(/<[^>]+>/g, '').replace(/&#x27;|&#39;/g, "'").replace(/\s+/g, ' ').trim() : '';
}

const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1]?.replace(/&#x27;|&#39;/g, "'") ?? '';
const summaryOf = (html: string) => /<div class="error-summary"[^>]*role="alert"[\s\S]*?<\/div>/.exec(html)?.[0] ?? '';
const summaryLinks = (html: string) =>
  [...summaryOf(html).matchAll(/<a href="#([^"]+)">([^<]*)<\/a>/g)].map((m) => ({ target: m[1]!, text: m[2]!.replace(/&#x27;|&#39;/g, "'") }));

/**
 * A field with errors as the flow pages show it: invalid, described by each of its errors (which
 * exist, start with the hidden "Error:" prefix and say `texts`), after any hint it has.
 */
function assertFieldError(html: string, id: string, texts: RegExp[], prefix: string, hint?: string) {
  const field = element(html, id);
  assert.ok(field, `an element with id ${id}`);
  assert.equal(field.attrs['aria-invalid'], 'true', `${id} is marked invalid`);
  const described = (field.attrs['aria-describedby'] ?? '').split(' ').filter(Boolean);
  if (hint) assert.equal(described[0], hint, `${id} keeps its hint`);
  const errorIds = described.filter((d) => d !== hint);
  assert.equal(errorIds.length, texts.length, `${id} is described by its ${texts.length} error(s): ${described.join(' ')}`);
  errorIds.forEach((e, i) => {
    assert.equal(element(html, e)?.attrs.class, 'field-error', `${e} is a field error`);
    assert.match(html, new RegExp(`id="${e}"><span class="visually-hidden">${prefix} </span>`), `${e} starts with the hidden prefix`);
    assert.match(textOf(html, e), texts[i]!);
  });
}

async function seedOffices(t: TestApp) {
  await importOffices(t.app, OFFICES);
  await seedAccount(t.ctx, { population: 'staff', externalId: 'R-DIP', username: 'luca.bianchi', email: 'luca.bianchi@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
  assert.equal((await nameReferent(t.app, 'DIP-ISTR', 'luca.bianchi')).status, 200);
}

describe('mailbox activation page', () => {
  let t: TestApp;
  let n = 0;
  before(async () => {
    t = await makeApp();
    await seedOffices(t);
  });
  after(() => t.close());

  /** A colleague waiting for activation and the link their referent sends them. */
  async function newLink(): Promise<{ link: string; username: string }> {
    n++;
    const username = `elio.sala${n}`;
    await seedAccount(t.ctx, { population: 'staff', externalId: `S-P${n}`, givenName: 'Elio', familyName: `Sala${n}`, username, status: 'pending_activation', orgUnit: 'DIP-ISTR', personalEmail: `elio${n}@example.net` });
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    assert.equal((await ref.request('POST', `/api/v1/referent/accounts/${username}/mailbox-link`, {})).status, 200);
    const mail = (await outbox(t.ctx, 'mailbox_activation')).filter((m) => m.recipient === `elio${n}@example.net`).at(-1)!;
    // Without the email's language: these tests open it in browsers of each language.
    return { link: /http:\/\/localhost:3000(\/mailbox\/activate\?token=[^&\s]+)/.exec(mail.text)![1]!, username };
  }

  it('a link that is not valid is titled so, not "Something went wrong" (it, en, el)', async () => {
    for (const [lang, title, said] of [
      ['it', 'Questo link non è valido', /Questo link di attivazione non è più valido/],
      ['en', 'This link is not valid', /This activation link is not valid any more/],
      ['el', 'Ο σύνδεσμος δεν είναι έγκυρος', /Αυτός ο σύνδεσμος ενεργοποίησης δεν ισχύει πια/],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/mailbox/activate?token=not.valid');
      assert.equal(b.status, 410);
      assert.ok(titleOf(b.html).startsWith(`${title} · `), titleOf(b.html));
      assert.match(b.html, new RegExp(`<h1>${title}</h1>`));
      assert.match(b.text(), said);
    }
  });

  it('switching language shows the same form, then the same outcome; the token is in no other address', async () => {
    const { link, username } = await newLink();
    const code = new URL(link, 'http://localhost').searchParams.get('token')!.split('.')[1]!;

    const b = new FormBrowser(t.app, 'it');
    await b.get(link);
    assert.equal(b.status, 200);
    assert.match(b.text(), /Attiva la tua casella di posta/);
    const opened = b.html;
    assert.match(opened, /<a href="\/mailbox\/activate\?lang=en"/);

    await b.get('/mailbox/activate?lang=en');
    assert.equal(b.status, 200, b.text());
    assert.match(b.text(), /Activate your mailbox/);
    assert.match(b.text(), /Set the password/);
    // Neither page repeats the token: the form posts to the bare path.
    for (const html of [opened, b.html]) {
      assert.ok(!html.includes(code), 'the page does not repeat the token');
      assert.match(html, /<form method="post" action="\/mailbox\/activate"/);
    }
    // What the link's page keeps for its language links: an HttpOnly cookie of its own path, sealed.
    const first = await t.app.inject({ method: 'GET', url: link, headers: { accept: 'text/html', 'accept-language': 'it' } });
    assert.equal(first.statusCode, 200);
    const kept = (first.cookies as Array<{ name: string; value: string; path?: string; httpOnly?: boolean; maxAge?: number }>).find((c) => c.name === 'tessera_mailbox_link');
    assert.ok(kept, 'the page keeps the link for its language links');
    assert.equal(kept.path, '/mailbox/activate');
    assert.equal(kept.httpOnly, true);
    assert.ok(kept.maxAge! > 0 && kept.maxAge! <= 3600, 'short-lived');
    assert.ok(!kept.value.includes(code), 'the cookie does not show the token');

    // Errors in English, then the password set from the Greek page.
    await b.submit({ newPassword: 'Posta-Nuova-2026', newPasswordConfirm: 'Posta-Nuova-2027' });
    assert.equal(b.status, 422);
    assert.match(b.text(), /The two passwords do not match/);
    await b.get('/mailbox/activate?lang=el');
    assert.equal(b.status, 200, b.text());
    assert.match(b.text(), /Ενεργοποίηση γραμματοκιβωτίου/);
    await b.submit({ newPassword: 'Posta-Nuova-2026', newPasswordConfirm: 'Posta-Nuova-2026' });
    assert.equal(b.status, 200, b.text());
    assert.match(b.text(), /Το γραμματοκιβώτιό σας είναι ενεργό/);
    assert.equal((await t.ctx.db.kysely.selectFrom('accounts').select('status').where('username_lower', '=', username).executeTakeFirstOrThrow()).status, 'active');
    // The outcome, in another language.
    await b.get('/mailbox/activate?lang=it');
    assert.equal(b.status, 200, b.text());
    assert.match(b.text(), new RegExp(`La tua casella è attiva.*Il tuo indirizzo è ${username}@unidemo\\.example\\.org`));
    // The spent link is refused (410) with what it did: the account is active, sign in; not
    // "ask the referent for a new one".
    await b.get(link);
    assert.equal(b.status, 410);
    assert.match(b.text(), /Questo link è già stato usato/);
    assert.match(b.text(), /account è già attivo: accedi/);
    assert.match(b.html, /href="\/flows\/login"/);
    assert.doesNotMatch(b.text(), /referente/);
    assert.ok(!b.html.includes('token='), 'not even a spent token goes into the language links');
    assert.match(b.html, /<a href="\/mailbox\/activate\?lang=en"/);
    await b.get('/mailbox/activate?lang=en');
    assert.equal(b.status, 410);
    assert.match(b.text(), /This link has already been used/);
    // A browser that never opened the link has nothing to show.
    const other = new FormBrowser(t.app, 'en');
    await other.get('/mailbox/activate?lang=en');
    assert.equal(other.status, 410);
  });

  it('a form uses the link it was shown for, not one opened later in the same browser', async () => {
    const a = await newLink();
    const later = await newLink();
    const b = new FormBrowser(t.app, 'en');
    await b.get(a.link);
    const staleCsrf = /name="_csrf" value="([^"]*)"/.exec(b.html)![1]!;
    await b.get(later.link);
    await b.submit({ newPassword: 'Posta-Nuova-2026', newPasswordConfirm: 'Posta-Nuova-2026' }, { csrf: staleCsrf });
    assert.equal(b.status, 403);
    const status = async (u: string) => (await t.ctx.db.kysely.selectFrom('accounts').select('status').where('username_lower', '=', u).executeTakeFirstOrThrow()).status;
    assert.equal(await status(later.username), 'pending_activation');
    await b.get('/mailbox/activate?lang=en');
    await b.submit({ newPassword: 'Posta-Nuova-2026', newPasswordConfirm: 'Posta-Nuova-2026' });
    assert.equal(b.status, 200, b.text());
    assert.equal(await status(later.username), 'active');
    assert.equal(await status(a.username), 'pending_activation');
  });

  it('a password the policy refuses: the errors are tied to its field, the title says so (it, en)', async () => {
    for (const [lang, title, prefix, label, texts] of [
      ['it', 'Errore: Attiva la tua casella di posta', 'Errore:', 'Nuova password', ['La password non rispetta le regole.', 'Almeno 8 caratteri.', 'Almeno una lettera maiuscola.', 'Almeno un numero.']],
      ['en', 'Error: Activate your mailbox', 'Error:', 'New password', ['The password does not meet the rules.', 'At least 8 characters.', 'At least one uppercase letter.', 'At least one digit.']],
    ] as const) {
      const { link } = await newLink();
      const b = new FormBrowser(t.app, lang);
      await b.get(link);
      assert.ok(!titleOf(b.html).startsWith(prefix), titleOf(b.html));
      await b.submit({ newPassword: 'corta', newPasswordConfirm: 'corta' });
      assert.equal(b.status, 422);
      assert.ok(titleOf(b.html).startsWith(`${title} · `), titleOf(b.html));
      assert.deepEqual(
        summaryLinks(b.html),
        texts.map((x) => ({ target: 'f-newPassword', text: `${label}: ${x}` })),
      );
      assertFieldError(b.html, 'f-newPassword', texts.map((x) => new RegExp(`^${prefix} ${x.replace(/\./g, '\\.')}$`)), prefix, 'f-newPassword-hint');
      const confirm = element(b.html, 'f-newPasswordConfirm')!;
      assert.equal(confirm.attrs['aria-invalid'], undefined, 'the confirmation is not at fault');
      assert.equal(confirm.attrs['aria-describedby'], undefined);
    }
  });

  it('a confirmation that does not match, and empty fields: each field has its own error (en, el)', async () => {
    const { link } = await newLink();
    const b = new FormBrowser(t.app, 'en');
    await b.get(link);
    await b.submit({ newPassword: 'Posta-Nuova-2026', newPasswordConfirm: 'Posta-Nuova-2027' });
    assert.equal(b.status, 422);
    assert.ok(titleOf(b.html).startsWith('Error: Activate your mailbox'), titleOf(b.html));
    assert.deepEqual(summaryLinks(b.html), [{ target: 'f-newPasswordConfirm', text: 'Repeat the new password: The two passwords do not match.' }]);
    assertFieldError(b.html, 'f-newPasswordConfirm', [/^Error: The two passwords do not match\.$/], 'Error:');
    assert.equal(element(b.html, 'f-newPassword')!.attrs['aria-invalid'], undefined);
    assert.equal(element(b.html, 'f-newPassword')!.attrs['aria-describedby'], 'f-newPassword-hint');
    // Every link of the summary leads to a field of the page.
    for (const l of summaryLinks(b.html)) assert.ok(element(b.html, l.target), l.target);

    const g = new FormBrowser(t.app, 'el');
    await g.get(link);
    await g.submit({ newPassword: '', newPasswordConfirm: '' });
    assert.equal(g.status, 422);
    assert.ok(titleOf(g.html).startsWith('Σφάλμα: Ενεργοποίηση γραμματοκιβωτίου'), titleOf(g.html));
    assert.deepEqual(summaryLinks(g.html), [
      { target: 'f-newPassword', text: 'Νέος κωδικός: Το πεδίο είναι υποχρεωτικό.' },
      { target: 'f-newPasswordConfirm', text: 'Επανάληψη νέου κωδικού: Το πεδίο είναι υποχρεωτικό.' },
    ]);
    assertFieldError(g.html, 'f-newPassword', [/Το πεδίο είναι υποχρεωτικό/], 'Σφάλμα:', 'f-newPassword-hint');
    assertFieldError(g.html, 'f-newPasswordConfirm', [/Το πεδίο είναι υποχρεωτικό/], 'Σφάλμα:');
  });
});

describe('referent page errors', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  before(async () => {
    t = await makeApp();
    await seedOffices(t);
    for (const [ext, given, family, username] of [
      ['S-R1', 'Nicolò', "D'Amico", 'nicolo.damico'],
      ['S-R2', 'Giulia', 'Conti', 'giulia.conti'],
    ] as const) {
      await seedAccount(t.ctx, { population: 'staff', externalId: ext, givenName: given, familyName: family, username, status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: `${username}@example.net` });
      const me = apiClient(t.app, { bearer: await sessionToken(t.app, username, PW) });
      const flow = (await me.start('mailbox-request')).body;
      assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    }
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    for (const r of (await ref.request('GET', '/api/v1/referent/requests')).body.requests) ids[r.username] = r.id;
  });
  after(() => t.close());

  async function referent(lang: string): Promise<FormBrowser> {
    const b = new FormBrowser(t.app, lang);
    await b.get('/referent/requests');
    await b.submit({ username: 'luca.bianchi', password: PW });
    assert.equal(b.url, '/referent/requests');
    return b;
  }

  for (const [lang, title, prefix, message] of [
    ['it', 'Errore: Richieste di casella di posta', 'Errore:', "Motivazione per respingere la richiesta di Giulia Conti: Campo obbligatorio."],
    ['en', 'Error: Mailbox requests', 'Error:', 'Reason to reject the request of Giulia Conti: This field is required.'],
    ['el', 'Σφάλμα: Αιτήσεις γραμματοκιβωτίων', 'Σφάλμα:', 'Αιτιολογία απόρριψης της αίτησης του/της Giulia Conti: Το πεδίο είναι υποχρεωτικό.'],
  ] as const) {
    it(`rejecting without a reason points at that request's reason (${lang})`, async () => {
      const b = await referent(lang);
      const id = ids['giulia.conti']!;
      const other = ids['nicolo.damico']!;
      assert.ok(!titleOf(b.html).startsWith(prefix));
      await b.submit({ comment: ' ' }, { formAction: new RegExp(`/requests/${id}/reject$`) });
      assert.equal(b.status, 422);
      assert.ok(titleOf(b.html).startsWith(title), titleOf(b.html));
      assert.deepEqual(summaryLinks(b.html), [{ target: `f-comment-${id}`, text: message }]);
      const field = element(b.html, `f-comment-${id}`)!;
      assert.equal(field.tag, 'textarea');
      assert.equal(field.attrs.name, 'comment');
      assertFieldError(b.html, `f-comment-${id}`, [new RegExp(`^${prefix} ${message.split(': ').at(-1)!.replace('.', '\\.')}$`)], prefix);
      // Its label still names it; the other request's reason is not at fault.
      assert.match(b.html, new RegExp(`<label for="f-comment-${id}">`));
      const untouched = element(b.html, `f-comment-${other}`)!;
      assert.equal(untouched.attrs['aria-invalid'], undefined);
      assert.equal(untouched.attrs['aria-describedby'], undefined);
      // Both requests are still there, undecided.
      assert.match(b.text(), /Giulia Conti/);
      assert.match(b.text(), /Nicolò D'Amico/);
    });
  }

  it('the username of the link form: summary, field and title (it, en)', async () => {
    for (const [lang, title, text, prefix] of [
      ['it', 'Errore: Richieste di casella di posta', 'Nome utente: Campo obbligatorio.', 'Errore:'],
      ['en', 'Error: Mailbox requests', 'Username: This field is required.', 'Error:'],
    ] as const) {
      const b = await referent(lang);
      await b.submit({ username: ' ' }, { formAction: /mailbox-link$/ });
      assert.equal(b.status, 422);
      assert.ok(titleOf(b.html).startsWith(title), titleOf(b.html));
      assert.deepEqual(summaryLinks(b.html), [{ target: 'f-username', text }]);
      assertFieldError(b.html, 'f-username', [new RegExp(`^${prefix} ${text.split(': ')[1]!.replace('.', '\\.')}$`)], prefix, 'send-link-hint');
    }
  });

  it('a username the referent cannot send a link to is said on the field, which it links to (it, en, el)', async () => {
    for (const [lang, text, prefix] of [
      ['it', 'Nome utente: Account inesistente.', 'Errore:'],
      ['en', 'Username: No such account.', 'Error:'],
      ['el', 'Όνομα χρήστη: Ο λογαριασμός δεν υπάρχει.', 'Σφάλμα:'],
    ] as const) {
      const b = await referent(lang);
      await b.submit({ username: 'nobody.here' }, { formAction: /mailbox-link$/ });
      assert.equal(b.status, 404);
      assert.deepEqual(summaryLinks(b.html), [{ target: 'f-username', text }]);
      assertFieldError(b.html, 'f-username', [new RegExp(`^${prefix} ${text.split(': ')[1]!.replace('.', '\\.')}$`)], prefix, 'send-link-hint');
    }
  });
});

describe('the account page while a mailbox request waits', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedOffices(t);
  });
  after(() => t.close());

  it('says the request waits for the office’s referent instead of offering to send another (it, en, el)', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S700', givenName: 'Nico', familyName: 'Amici', username: 'nico.amici', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'nico@example.net' });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/login');
    await b.submit({ username: 'nico.amici', password: PW });
    await b.get('/flows/mailbox-request');
    await b.submit({ note: 'Nuova assunzione' });
    const flowUrl = b.url;
    await b.get('/account');
    assert.doesNotMatch(b.text(), /Richiedi una casella di posta istituzionale/);
    assert.match(b.text(), /Casella di posta istituzionale Richiesta inviata il \d+ \w+ \d{4}: in attesa della decisione del Referente informatico del tuo ufficio\./);
    assert.ok(b.html.includes(`href="${flowUrl}"`), 'links to the request’s page');
    await b.get('/account?lang=en');
    assert.match(b.text(), /Request sent on \d+ \w+ \d{4}: waiting for the decision of your office’s IT referent\./);
    await b.get('/account?lang=el');
    assert.match(b.text(), /Η αίτηση στάλθηκε στις \d+ \S+ \d{4} και περιμένει την απόφαση του υπευθύνου πληροφορικής της υπηρεσίας σας\./);

    // Once rejected, a new request may be sent from the account page again.
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'luca.bianchi', PW) });
    const id = (await ref.request('GET', '/api/v1/referent/requests')).body.requests[0].id;
    assert.equal((await ref.request('POST', `/api/v1/referent/requests/${id}/reject`, { comment: 'Ufficio sbagliato' })).status, 200);
    await b.get('/account?lang=it');
    assert.match(b.text(), /Richiedi una casella di posta istituzionale/);
    assert.doesNotMatch(b.text(), /in attesa della decisione/);
  });
});
