import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mailboxRemindersJob } from '../../src/jobs/mailbox-reminders.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { importOffices, nameReferent, OFFICES, outbox, sessionToken } from './helpers.js';

const PW = 'Vecchia-Pass1';

/** The account's remembered language, as the administration API shows it. */
async function languageOf(t: TestApp, username: string): Promise<string | null> {
  const r = await apiClient(t.app).request('GET', `/api/v1/admin/accounts/${encodeURIComponent(username)}`, undefined, adminHeaders);
  assert.equal(r.status, 200);
  return r.body.account.locale;
}

describe('the language of the emails others’ actions send', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    assert.equal(t.ctx.config.institution.defaultLocale, 'it');
    await importOffices(t.app, OFFICES);
    // An IT referent who reads Greek, and one who never chose a language.
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-EL', username: 'eleni.referent', email: 'eleni@unidemo.example.org', status: 'active', password: PW, orgUnit: 'AT-MI' });
    await seedAccount(t.ctx, { population: 'staff', externalId: 'R-IT', username: 'paolo.referent', email: 'paolo@unidemo.example.org', status: 'active', password: PW, orgUnit: 'DIP-ISTR' });
    assert.equal((await nameReferent(t.app, 'AT-MI', 'eleni.referent')).status, 200);
    assert.equal((await nameReferent(t.app, 'DIP-ISTR', 'paolo.referent')).status, 200);
  });
  after(() => t.close());

  it('a sign-in remembers the language chosen or asked for, never a default', async () => {
    assert.equal(await languageOf(t, 'eleni.referent'), null);
    // The API without Accept-Language answers in English, but nobody chose it.
    await sessionToken(t.app, 'eleni.referent', PW);
    assert.equal(await languageOf(t, 'eleni.referent'), null);
    // A browser asking for a language Tessera does not have gets the institution's default: not a choice either.
    const german = new FormBrowser(t.app, 'de');
    await german.get('/flows/login');
    await german.submit({ username: 'eleni.referent', password: PW });
    assert.equal(german.url, '/account');
    assert.equal(await languageOf(t, 'eleni.referent'), null);
    // The language links of the page are a choice.
    const browser = new FormBrowser(t.app, 'it');
    await browser.get('/flows/login?lang=el');
    await browser.submit({ username: 'eleni.referent', password: PW });
    assert.equal(browser.url, '/account');
    assert.equal(await languageOf(t, 'eleni.referent'), 'el');
    // An app's Accept-Language is what its person reads.
    const done = await apiClient(t.app, { lang: 'en' }).start('login');
    assert.equal((await apiClient(t.app, { lang: 'en' }).submit('login', done.body.id, { username: 'paolo.referent', password: PW })).status, 200);
    assert.equal(await languageOf(t, 'paolo.referent'), 'en');
    // A wrong password changes nothing.
    const wrong = await apiClient(t.app, { lang: 'it' }).start('login');
    assert.equal((await apiClient(t.app, { lang: 'it' }).submit('login', wrong.body.id, { username: 'paolo.referent', password: 'Sbagliata-1' })).status, 422);
    assert.equal(await languageOf(t, 'paolo.referent'), 'en');
    await t.ctx.db.kysely.updateTable('accounts').set({ locale: null }).where('username_lower', '=', 'paolo.referent').execute();
  });

  it('a referent is told of a new request, and reminded, in their language; one who chose none, in the institution’s', async () => {
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S-GR', givenName: 'Maria', familyName: 'Conti', username: 'maria.conti', status: 'active', password: PW, orgUnit: 'AT-MI', personalEmail: 'maria@example.net' });
    await seedAccount(t.ctx, { population: 'staff', externalId: 'S-IT', givenName: 'Piero', familyName: 'Sala', username: 'piero.sala', status: 'active', password: PW, orgUnit: 'DIP-ISTR', personalEmail: 'piero@example.net' });
    // Both requesters write in English: the notices follow the referents, not the requesters.
    for (const who of ['maria.conti', 'piero.sala']) {
      const me = apiClient(t.app, { bearer: await sessionToken(t.app, who, PW), lang: 'en' });
      const flow = (await me.start('mailbox-request')).body;
      assert.equal((await me.submit('mailbox-request', flow.id, {})).status, 200);
    }
    const notices = await outbox(t.ctx, 'mailbox_request');
    const toEleni = notices.find((m) => m.recipient === 'eleni@unidemo.example.org')!;
    assert.equal(toEleni.subject, 'Πανεπιστήμιο Demo: αίτηση γραμματοκιβωτίου από Maria Conti');
    assert.match(toEleni.text, /^Ο\/Η Maria Conti \(Ambito territoriale di Milano\) ζητά ιδρυματικό γραμματοκιβώτιο\./);
    assert.match(toEleni.text, /\n--\n\nΠανεπιστήμιο Demo$/);
    assert.match(toEleni.html!, /^<!doctype html><html lang="el">/);
    const toPaolo = notices.find((m) => m.recipient === 'paolo@unidemo.example.org')!;
    assert.equal(toPaolo.subject, 'Università Demo: richiesta di casella di posta da Piero Sala');

    t.clock.advance(49 * 3_600_000);
    const report = await mailboxRemindersJob.run(t.ctx, { dryRun: false });
    assert.deepEqual([...report.reminded].sort(), ['maria.conti', 'piero.sala']);
    const reminders = await outbox(t.ctx, 'mailbox_request_reminder');
    const toEleniAgain = reminders.find((m) => m.recipient === 'eleni@unidemo.example.org')!;
    assert.equal(toEleniAgain.subject, 'Πανεπιστήμιο Demo: υπενθύμιση για την αίτηση γραμματοκιβωτίου από Maria Conti');
    assert.match(toEleniAgain.text, /Λήγει στις 7 Δεκεμβρίου 2026\./);
    const toPaoloAgain = reminders.find((m) => m.recipient === 'paolo@unidemo.example.org')!;
    assert.equal(toPaoloAgain.subject, 'Università Demo: promemoria della richiesta di casella di posta da Piero Sala');
    assert.match(toPaoloAgain.text, /Scade il 7 dicembre 2026\./);
  });

  it('a mailbox link goes out in the person’s language: Greek greets without the name, English starts its sentence in capitals', async () => {
    const ref = apiClient(t.app, { bearer: await sessionToken(t.app, 'eleni.referent', PW) });
    for (const [externalId, username, givenName, familyName, locale] of [
      ['S-EL2', 'nikos.pappas', 'Νίκος', 'Παππάς', 'el'],
      ['S-EN2', 'john.smith', 'John', 'Smith', 'en'],
    ] as const) {
      await seedAccount(t.ctx, { population: 'staff', externalId, givenName, familyName, username, status: 'pending_activation', orgUnit: 'AT-MI', personalEmail: `${username}@example.net` });
      await t.ctx.db.kysely.updateTable('accounts').set({ locale }).where('username_lower', '=', username).execute();
      assert.equal((await ref.request('POST', `/api/v1/referent/accounts/${username}/mailbox-link`, {})).status, 200);
    }
    const links = await outbox(t.ctx, 'mailbox_activation');
    const el = links.find((m) => m.recipient === 'nikos.pappas@example.net')!;
    assert.equal(el.subject, 'Πανεπιστήμιο Demo: ενεργοποιήστε το ιδρυματικό σας γραμματοκιβώτιο');
    assert.match(el.text, /^Γεια σας,\n\nΗ ιδρυματική σας διεύθυνση είναι \S+@unidemo\.example\.org\. Για να επιλέξετε κωδικό/);
    assert.doesNotMatch(el.text, /Νίκος|Αγαπητ/);
    assert.match(el.text, /\n--\n\nΠανεπιστήμιο Demo$/);
    assert.match(el.html!, /^<!doctype html><html lang="el">/);
    const en = links.find((m) => m.recipient === 'john.smith@example.net')!;
    assert.equal(en.subject, 'Demo University: activate your institutional mailbox');
    assert.match(en.text, /^Hello John Smith,\n\nYour institutional address is \S+@unidemo\.example\.org\. To choose its password, open this link/);
    assert.match(en.text, /We will never send a password by email\.\n\n--\n\nDemo University$/);
  });

  it('an activation remembers the language it was made in', async () => {
    await seedAccount(t.ctx, { externalId: '20269901', status: 'pending_activation', password: 'Tessera-2026' });
    const c = apiClient(t.app, { lang: 'el' });
    const flow = (await c.start('activation-password')).body;
    const r = await c.submit('activation-password', flow.id, { population: 'student', username: '20269901', currentPassword: 'Tessera-2026', newPassword: 'Nuova-Pass42', newPasswordConfirm: 'Nuova-Pass42' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'completed');
    assert.equal(await languageOf(t, '20269901'), 'el');
  });
});
