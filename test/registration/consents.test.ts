import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/env.js';
import { configWarnings, parseInstitution } from '../../src/config/load-institution.js';
import { translate } from '../../src/i18n/index.js';
import { runJob } from '../../src/jobs/runner.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient, FormBrowser } from '../helpers/clients.js';
import { details, messageCount, verificationLink } from './outbox.js';

const NOTICE = {
  version: '2026-09',
  url: { en: 'https://www.uni.example.org/en/privacy', it: 'https://www.uni.example.org/privacy', el: 'https://www.uni.example.org/el/privacy' },
};
const FURTHER = [
  { id: 'terms', version: '2026-10', required: true, text: { en: 'I accept the terms of use of the online services', it: 'Accetto le condizioni d’uso dei servizi online', el: 'Αποδέχομαι τους όρους χρήσης των ηλεκτρονικών υπηρεσιών' } },
  { id: 'newsletter', version: '2026-11', required: false, text: { en: 'Send me news about open days', it: 'Inviami notizie sugli open day' } },
];

const form = (over: Record<string, string> = {}) => {
  const d = details();
  return { username: d.username, password: d.password, passwordConfirm: d.passwordConfirm, givenName: d.givenName, familyName: d.familyName, birthDate: d.birthDate, mobile: d.mobile, email: d.email, registrantType: 'person', consents: 'true', ...over };
};

describe('registration: the privacy notice and the consents', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.registration.privacyNotice = structuredClone(NOTICE);
        c.registration.consents = structuredClone(FURTHER);
      }),
    });
  });
  after(() => t.close());

  const db = () => t.ctx.db.kysely;
  const records = (personId: string) =>
    db().selectFrom('consent_records').select(['consent_id', 'version', 'granted', 'locale', 'account_id']).where('person_id', '=', personId).orderBy('consent_id').execute();
  const accountOf = (username: string) => db().selectFrom('accounts').selectAll().where('username_lower', '=', username).executeTakeFirst();
  const admin = async (username: string) => (await t.app.inject({ method: 'GET', url: `/api/v1/admin/accounts/${username}`, headers: adminHeaders })).json();

  it('the page links the notice next to the privacy checkbox, in the page’s language, and shows the further consents', async () => {
    for (const [lang, text] of [
      ['it', 'Leggi l’informativa sulla privacy (versione 2026-09)'],
      ['en', 'Read the privacy notice (version 2026-09)'],
      ['el', 'Διαβάστε την ενημέρωση για την προστασία δεδομένων (έκδοση 2026-09)'],
    ] as const) {
      const b = new FormBrowser(t.app, lang);
      await b.get('/flows/registration');
      assert.equal(b.status, 200);
      // The checkbox, its label, then the link, which the checkbox names as its description.
      const field = /<div class="field checkbox"><input[^>]*name="consents"[^>]*\/>[\s\S]*?<\/div>/.exec(b.html)?.[0] ?? '';
      assert.match(field, /aria-describedby="f-consents-notice"/, field);
      assert.ok(field.includes(`<label for="f-consents">${translate(lang, 'field.consents')}</label><p class="consent-notice" id="f-consents-notice"><a href="${NOTICE.url[lang]}">${text}</a></p>`), field);
      assert.equal(b.html.split(`href="${NOTICE.url[lang]}"`).length - 1, 1, 'the notice is linked once');
      // The further consents, in their order, with the institution's words (English where it gave no other).
      assert.match(b.html, /<input type="checkbox" value="true" id="f-consents\.terms" name="consents\.terms" required/);
      assert.match(b.html, /<input type="checkbox" value="true" id="f-consents\.newsletter" name="consents\.newsletter"\/>/);
      assert.match(b.html, new RegExp(`<label for="f-consents.newsletter">${lang === 'it' ? 'Inviami notizie sugli open day' : 'Send me news about open days'}</label>`));
      assert.ok(b.html.indexOf('name="consents"') < b.html.indexOf('name="consents.terms"'));
    }
  });

  it('the API’s view describes each consent: text, required, version and the notice', async () => {
    const c = apiClient(t.app, { lang: 'el' });
    const f = (await c.start('registration')).body;
    const consentFields = f.fields.filter((x: { consent?: unknown }) => x.consent);
    const notice = { url: NOTICE.url.el, version: '2026-09', text: 'Διαβάστε την ενημέρωση για την προστασία δεδομένων (έκδοση 2026-09)' };
    assert.deepEqual(consentFields, [
      { name: 'consents', type: 'checkbox', required: true, labelText: translate('el', 'field.consents'), consent: { id: 'privacy', version: '2026-09', notice } },
      { name: 'consents.terms', type: 'checkbox', required: true, labelText: FURTHER[0]!.text.el, consent: { id: 'terms', version: '2026-10', notice } },
      // No Greek text given: the English one.
      { name: 'consents.newsletter', type: 'checkbox', required: false, labelText: FURTHER[1]!.text.en, consent: { id: 'newsletter', version: '2026-11', notice } },
    ]);
  });

  it('a required consent not given: a field error in the caller’s language, and nothing is created or sent', async () => {
    for (const [lang, said] of [
      ['it', 'Per registrarti devi dare questo consenso.'],
      ['en', 'You must give this consent to register.'],
      ['el', 'Για να εγγραφείτε πρέπει να δώσετε αυτή τη συναίνεση.'],
    ] as const) {
      const c = apiClient(t.app, { lang });
      const f = (await c.start('registration')).body;
      const r = await c.submit('registration', f.id, details({ username: `no.terms.${lang}`, email: `no.terms.${lang}@example.org`, consents: { privacy: true, newsletter: true } }));
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.deepEqual(r.body.error.fields, { 'consents.terms': 'consent.needed' });
      assert.ok(r.body.messages.some((m: { field?: string; text: string }) => m.field === 'consents.terms' && m.text === said), JSON.stringify(r.body.messages));
      assert.equal(r.body.state, 'awaiting_details');
      assert.equal(await accountOf(`no.terms.${lang}`), undefined);
      assert.equal(await messageCount(t.ctx, `no.terms.${lang}@example.org`), 0);
    }
    // In the page: the error names the consent by its text, next to its checkbox; what was ticked stays ticked.
    const b = new FormBrowser(t.app, 'en');
    await b.get('/flows/registration');
    await b.submit(form({ username: 'no.terms.form', email: 'no.terms.form@example.org', 'consents.newsletter': 'true' }));
    assert.equal(b.status, 422);
    assert.match(b.html, /<a href="#f-consents\.terms">I accept the terms of use of the online services: You must give this consent to register\.<\/a>/);
    assert.match(b.html, /<input type="checkbox" value="true" checked id="f-consents\.newsletter"/);
    assert.equal(await accountOf('no.terms.form'), undefined);
    // The privacy notice not accepted says so, as before; an unknown consent is refused, not dropped.
    const c = apiClient(t.app);
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username: 'no.privacy', email: 'no.privacy@example.org', consents: { terms: true, newsleter: true } }));
    assert.deepEqual(r.body.error.fields, { consents: 'consent.required', 'consents.newsleter': 'field.invalid' });
    assert.equal(await accountOf('no.privacy'), undefined);
    // A value that says neither yes nor no is refused, never recorded as a refusal.
    const g = (await c.start('registration')).body;
    const unclear = await c.submit('registration', g.id, details({ username: 'no.unclear', email: 'no.unclear@example.org', consents: { privacy: true, terms: 1, newsletter: 'yes' } }));
    assert.equal(unclear.status, 422);
    assert.deepEqual(unclear.body.error.fields, { 'consents.terms': 'field.invalid', 'consents.newsletter': 'field.invalid' });
    assert.equal(await accountOf('no.unclear'), undefined);
    const persons = await db().selectFrom('persons').select('id').where('personal_email_lower', 'like', 'no.%').execute();
    assert.deepEqual(persons, []);
    assert.deepEqual(await db().selectFrom('consent_records').select('id').execute(), []);
  });

  it('records each choice with the version shown, the language and the time; the admin view shows them', async () => {
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/registration');
    await b.submit(form({ username: 'anna.form', email: 'anna.form@example.org', 'consents.terms': 'true' }));
    assert.equal(b.status, 200, b.text());
    const acc = (await accountOf('anna.form'))!;
    assert.deepEqual(await records(acc.person_id!), [
      { consent_id: 'newsletter', version: '2026-11', granted: 0, locale: 'it', account_id: acc.id },
      { consent_id: 'privacy', version: '2026-09', granted: 1, locale: 'it', account_id: acc.id },
      { consent_id: 'terms', version: '2026-10', granted: 1, locale: 'it', account_id: acc.id },
    ]);
    const view = await admin('anna.form');
    assert.deepEqual(
      view.consents.map((x: { consentId: string; version: string; granted: boolean; at: string }) => [x.consentId, x.version, x.granted, x.at]),
      [
        ['newsletter', '2026-11', false, t.clock.now().toISOString()],
        ['privacy', '2026-09', true, t.clock.now().toISOString()],
        ['terms', '2026-10', true, t.clock.now().toISOString()],
      ],
    );
    // Recorded once, where activation records its consents: not a second time in the person's own data.
    assert.equal(view.person.extra.consents, undefined);
    const created = view.timeline.find((e: { action: string }) => e.action === 'registration.created');
    assert.deepEqual(created.details.consents, { privacy: { version: '2026-09', granted: true }, terms: { version: '2026-10', granted: true }, newsletter: { version: '2026-11', granted: false } });

    // Through the API, `consents` as an object (`true` alone still accepts the notice).
    const c = apiClient(t.app, { lang: 'en' });
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username: 'anna.api', email: 'anna.api@example.org', consents: { privacy: true, terms: true, newsletter: true } }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const api = (await accountOf('anna.api'))!;
    assert.deepEqual((await records(api.person_id!)).map((x) => [x.consent_id, x.granted, x.locale]), [['newsletter', 1, 'en'], ['privacy', 1, 'en'], ['terms', 1, 'en']]);
  });

  it('a notice changed while the email waits to be confirmed: the record keeps the version the person saw', async () => {
    const c = apiClient(t.app, { lang: 'en' });
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username: 'before.change', email: 'before.change@example.org', consents: { privacy: true, terms: true } }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const notice = t.ctx.config.registration.privacyNotice!;
    const terms = t.ctx.config.registration.consents[0]!;
    notice.version = '2027-01';
    terms.version = '2027-02';
    try {
      t.clock.advance(3_600_000);
      const { token } = await verificationLink(t.ctx, 'before.change@example.org');
      const done = await c.submit('registration', f.id, { token });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.result.status, 'active');
      const view = await admin('before.change');
      assert.equal(view.status, 'active');
      assert.deepEqual(view.consents.map((x: { consentId: string; version: string }) => [x.consentId, x.version]), [['newsletter', '2026-11'], ['privacy', '2026-09'], ['terms', '2026-10']]);
      // Whoever registers from now on is shown, and accepts, the new version.
      const later = apiClient(t.app, { lang: 'en' });
      const g = (await later.start('registration')).body;
      assert.equal(g.fields.find((x: { name: string }) => x.name === 'consents').consent.version, '2027-01');
      assert.equal((await later.submit('registration', g.id, details({ username: 'after.change', email: 'after.change@example.org', consents: { privacy: true, terms: true } }))).status, 200);
      const afterView = await admin('after.change');
      assert.deepEqual(afterView.consents.map((x: { consentId: string; version: string }) => [x.consentId, x.version]), [['newsletter', '2026-11'], ['privacy', '2027-01'], ['terms', '2027-02']]);
    } finally {
      notice.version = NOTICE.version;
      terms.version = FURTHER[0]!.version;
    }
  });

  it('a registration that lapses takes its consent records with it', async () => {
    const c = apiClient(t.app, { lang: 'en' });
    const f = (await c.start('registration')).body;
    assert.equal((await c.submit('registration', f.id, details({ username: 'lapsed.one', email: 'lapsed.one@example.org', consents: { privacy: true, terms: true } }))).status, 200);
    const personId = (await accountOf('lapsed.one'))!.person_id!;
    assert.equal((await records(personId)).length, 3);
    t.clock.advance(25 * 3_600_000);
    // (with the other registrations of this file still waiting for their link)
    assert.ok(((await runJob(t.ctx, 'expire-unverified', { dryRun: false })).counts.purged ?? 0) >= 1);
    assert.equal(await accountOf('lapsed.one'), undefined, 'its username is free again');
    assert.deepEqual(await records(personId), []);
  });
});

describe('registration: the privacy notice in the configuration', () => {
  const base = 'institution:\n  id: x\n  name: X\n  domain: uni.example.org\n';
  const registering = `${base}populations:\n  external:\n    activation: [registration]\n`;
  const refused = (yaml: string, key: string, why: RegExp) =>
    assert.throws(
      () => parseInstitution(yaml, 'inst.yaml'),
      (e: ConfigError) => {
        assert.equal(e.key, key);
        assert.match(e.message, why);
        return true;
      },
    );

  it('takes a version and an http(s) address, one for all languages or one per language', () => {
    const one = parseInstitution(`${registering}registration:\n  privacyNotice:\n    version: "2026-09"\n    url: https://uni.example.org/privacy\n`, 'inst.yaml');
    assert.deepEqual(one.registration.privacyNotice, { version: '2026-09', url: 'https://uni.example.org/privacy' });
    const each = parseInstitution(`${registering}registration:\n  privacyNotice:\n    version: v3\n    url: { en: "https://uni.example.org/en/privacy", it: "http://uni.example.org/privacy" }\n`, 'inst.yaml');
    assert.deepEqual(each.registration.privacyNotice!.url, { en: 'https://uni.example.org/en/privacy', it: 'http://uni.example.org/privacy' });
    // An institution whose people do not register themselves needs none.
    assert.equal(parseInstitution(base, 'inst.yaml').registration.privacyNotice, undefined);
    assert.deepEqual(configWarnings(parseInstitution(base, 'inst.yaml')), []);
    assert.deepEqual(configWarnings(one), []);
  });

  it('starts without a notice where people register, but warns that it is missing', () => {
    const [warning, ...more] = configWarnings(parseInstitution(registering, 'inst.yaml'));
    assert.match(warning ?? '', /^registration\.privacyNotice is not set although people register themselves/);
    assert.deepEqual(more, []);
  });

  it('refuses an address that is not http(s) and a consent id taken or repeated', () => {
    const notice = (url: string, version = '"2026-09"') => `${registering}registration:\n  privacyNotice:\n    version: ${version}\n    url: ${url}\n`;
    refused(notice('ftp://uni.example.org/privacy'), 'registration.privacyNotice.url', /inst\.yaml: registration\.privacyNotice\.url must be an http or https address/);
    refused(notice('"javascript:alert(1)"'), 'registration.privacyNotice.url', /must be an http or https address/);
    refused(notice('privacy.html'), 'registration.privacyNotice.url', /must be an http or https address/);
    refused(notice('{ en: "https://uni.example.org/privacy", el: "mailto:dpo@uni.example.org" }'), 'registration.privacyNotice.url.el', /must be an http or https address/);
    refused(notice('{ it: "https://uni.example.org/privacy" }'), 'registration.privacyNotice.url', /one per language.*en required/);
    refused(notice('https://uni.example.org/privacy', '""'), 'registration.privacyNotice.version', /.+/);
    refused(`${registering}registration:\n  privacyNotice:\n    url: https://uni.example.org/privacy\n`, 'registration.privacyNotice.version', /is required but missing/);
    const consents = (list: string) => `${notice('https://uni.example.org/privacy')}  consents:\n${list}`;
    refused(consents('    - { id: privacy, version: "1", text: Privacy }\n'), 'registration.consents.0.id', /privacy notice’s own id/);
    refused(consents('    - { id: terms, version: "1", text: Terms }\n    - { id: terms, version: "2", text: Terms again }\n'), 'registration.consents.1.id', /repeats the consent id terms/);
  });
});
