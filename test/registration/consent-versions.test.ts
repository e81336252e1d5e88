import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient, FormBrowser } from '../helpers/clients.js';
import { lastPinFor, makeAmka, seedStudent } from '../activation-pin/helpers.js';
import { details, messageCount } from './outbox.js';

/**
 * The version recorded with a choice is the one the person was shown: a notice (or a consent's
 * text) changed between showing a step and its sending refuses the step, which is shown again
 * with the new version; that one is then recorded.
 */

const NOTICE = { version: '2026-09', url: { en: 'https://www.uni.example.org/en/privacy', it: 'https://www.uni.example.org/privacy' } };
const TERMS = { id: 'terms', version: '2026-10', required: true, text: { en: 'I accept the terms of use', it: 'Accetto le condizioni d’uso' } };

const NOTICE_CHANGED = {
  en: 'The privacy notice has changed since the page was shown. Please read the new version and accept it again.',
  it: 'L’informativa sulla privacy è cambiata da quando la pagina è stata mostrata. Leggi la nuova versione e accettala di nuovo.',
  el: 'Η ενημέρωση για την προστασία δεδομένων άλλαξε από τη στιγμή που εμφανίστηκε η σελίδα. Διαβάστε τη νέα έκδοση και αποδεχθείτε την ξανά.',
};
const TEXT_CHANGED = 'This text has changed since the page was shown. Please read it again and give your choice again.';

describe('registration: the consent versions recorded are the ones shown', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.registration.privacyNotice = structuredClone(NOTICE);
        c.registration.consents = [structuredClone(TERMS)];
      }),
    });
  });
  after(() => t.close());

  const db = () => t.ctx.db.kysely;
  const notice = () => t.ctx.config.registration.privacyNotice!;
  const terms = () => t.ctx.config.registration.consents[0]!;
  const restore = () => {
    notice().version = NOTICE.version;
    terms().version = TERMS.version;
  };
  const recorded = async (username: string) => {
    const acc = await db().selectFrom('accounts').select('person_id').where('username_lower', '=', username).executeTakeFirst();
    if (!acc) return undefined;
    const rows = await db().selectFrom('consent_records').select(['consent_id', 'version', 'granted']).where('person_id', '=', acc.person_id!).orderBy('consent_id').execute();
    return rows.map((r) => [r.consent_id, r.version, r.granted]);
  };
  const versionOf = (view: { fields: Array<{ name: string; consent?: { version: string } }> }, name: string) => view.fields.find((f) => f.name === name)?.consent?.version;
  const nothingFor = async (username: string) => {
    assert.equal(await recorded(username), undefined, `no account for ${username}`);
    assert.equal(await messageCount(t.ctx, `${username}@example.org`), 0);
  };

  it('API: unchanged, the version described is recorded; a notice changed after the view was described refuses the step, describes the new one, then records it', async () => {
    const same = apiClient(t.app, { lang: 'en' });
    const e = (await same.start('registration')).body;
    assert.equal(versionOf(e, 'consents'), '2026-09');
    const done = await same.submit('registration', e.id, details({ username: 'same.api', email: 'same.api@example.org', consents: { privacy: true, terms: true } }));
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(await recorded('same.api'), [['privacy', '2026-09', 1], ['terms', '2026-10', 1]]);

    const c = apiClient(t.app, { lang: 'it' });
    const f = (await c.start('registration')).body;
    assert.equal(versionOf(f, 'consents'), '2026-09');
    notice().version = '2027-01';
    try {
      const send = () => c.submit('registration', f.id, details({ username: 'changed.api', email: 'changed.api@example.org', consents: { privacy: true, terms: true } }));
      const r = await send();
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'validation.failed');
      assert.deepEqual(r.body.error.fields, { consents: 'consent.notice_changed' });
      assert.ok(r.body.messages.some((m: { field?: string; text: string }) => m.field === 'consents' && m.text === NOTICE_CHANGED.it), JSON.stringify(r.body.messages));
      assert.equal(r.body.state, 'awaiting_details');
      assert.equal(versionOf(r.body, 'consents'), '2027-01', 'the step is described again with the new version');
      await nothingFor('changed.api');
      // The same request again (the client showed the new version): accepted, with the new version.
      const again = await send();
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(await recorded('changed.api'), [['privacy', '2027-01', 1], ['terms', '2026-10', 1]]);
    } finally {
      restore();
    }
  });

  it('API: a further consent changed names that consent; a view read again after the change is what is recorded', async () => {
    const c = apiClient(t.app, { lang: 'en' });
    const f = (await c.start('registration')).body;
    terms().version = '2027-02';
    try {
      const r = await c.submit('registration', f.id, details({ username: 'terms.api', email: 'terms.api@example.org', consents: { privacy: true, terms: true } }));
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.error.fields, { 'consents.terms': 'consent.notice_changed' });
      assert.ok(r.body.messages.some((m: { field?: string; text: string }) => m.field === 'consents.terms' && m.text === TEXT_CHANGED), JSON.stringify(r.body.messages));
      await nothingFor('terms.api');
      // Another flow, shown, then changed, then read again: the version read again is the one shown.
      const g = (await c.start('registration')).body;
      notice().version = '2027-03';
      const read = await c.get('registration', g.id);
      assert.equal(versionOf(read.body, 'consents'), '2027-03');
      const ok = await c.submit('registration', g.id, details({ username: 'reread.api', email: 'reread.api@example.org', consents: { privacy: true, terms: true } }));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(await recorded('reread.api'), [['privacy', '2027-03', 1], ['terms', '2027-02', 1]]);
    } finally {
      restore();
    }
  });

  it('page: unchanged, the version shown is recorded; changed, the page shows the new notice with the choice to make again', async () => {
    const form = (username: string) => {
      const { consents: _json, ...d } = details({ username, email: `${username}@example.org` });
      return { ...d, consents: 'true', 'consents.terms': 'true', registrantType: 'person' };
    };
    const same = new FormBrowser(t.app, 'en');
    await same.get('/flows/registration');
    assert.match(same.html, /Read the privacy notice \(version 2026-09\)/);
    await same.submit(form('same.form'));
    assert.equal(same.status, 200, same.text());
    assert.deepEqual(await recorded('same.form'), [['privacy', '2026-09', 1], ['terms', '2026-10', 1]]);

    const b = new FormBrowser(t.app, 'el');
    await b.get('/flows/registration');
    assert.match(b.html, /\(έκδοση 2026-09\)/);
    notice().version = '2027-01';
    try {
      await b.submit(form('changed.form'));
      assert.equal(b.status, 422);
      assert.ok(b.text().includes(NOTICE_CHANGED.el), b.text());
      assert.match(b.html, /\(έκδοση 2027-01\)/);
      assert.doesNotMatch(b.html, /\(έκδοση 2026-09\)/);
      // The notice's checkbox is not left ticked: accepting the new notice is a choice made again.
      assert.match(b.html, /<input type="checkbox" value="true" id="f-consents" name="consents"/);
      await nothingFor('changed.form');
      await b.submit(form('changed.form'));
      assert.equal(b.status, 200, b.text());
      assert.deepEqual(await recorded('changed.form'), [['privacy', '2027-01', 1], ['terms', '2026-10', 1]]);
    } finally {
      restore();
    }
  });
});

describe('activation by PIN: the consent versions recorded are the ones shown', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.institution.defaultCountry = 'GR';
        c.activation.consents = [{ id: 'directory', text: { en: 'Show me in the directory' }, version: 'v1', required: false }];
      }),
    });
  });
  after(() => t.close());

  const directory = () => t.ctx.config.activation.consents[0]!;
  const recorded = async (externalId: string) => {
    const p = await t.ctx.db.kysely.selectFrom('persons').select('id').where('external_id', '=', externalId).executeTakeFirstOrThrow();
    const rows = await t.ctx.db.kysely.selectFrom('consent_records').select(['consent_id', 'version', 'granted']).where('person_id', '=', p.id).execute();
    return rows.map((r) => [r.consent_id, r.version, r.granted]);
  };

  /** A student with an AMKA on file, brought to the consent step through the API. */
  async function atConsent(externalId: string, mobile: string) {
    await seedStudent(t.ctx, { externalId, mobile, email: null, amka: makeAmka('010190', externalId.slice(-4)) });
    const c = apiClient(t.app, { lang: 'en' });
    const s = (await c.start('activation-pin')).body;
    assert.equal((await c.submit('activation-pin', s.id, { mobile })).status, 200);
    const r = await c.submit('activation-pin', s.id, { pin: await lastPinFor(t.app, mobile) });
    assert.equal(r.body.state, 'awaiting_consent', JSON.stringify(r.body));
    return { c, id: s.id as string, view: r.body };
  }

  it('API: unchanged, the version shown is recorded; changed, refused and shown again, then the new one is recorded', async () => {
    const same = await atConsent('S7001', '+306912340001');
    assert.equal(same.view.data.consents[0].version, 'v1');
    const ok = await same.c.submit('activation-pin', same.id, { dataAccurate: true, consents: { directory: true } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(await recorded('S7001'), [['directory', 'v1', 1]]);

    const changed = await atConsent('S7002', '+306912340002');
    directory().version = 'v2';
    try {
      const r = await changed.c.submit('activation-pin', changed.id, { dataAccurate: true, consents: { directory: true } });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.deepEqual(r.body.error.fields, { 'consents.directory': 'consent.notice_changed' });
      assert.ok(r.body.messages.some((m: { field?: string; text: string }) => m.field === 'consents.directory' && m.text === TEXT_CHANGED));
      assert.equal(r.body.state, 'awaiting_consent');
      assert.equal(r.body.data.consents[0].version, 'v2');
      assert.equal(r.body.fields.find((f: { name: string }) => f.name === 'consents.directory').consent.version, 'v2');
      assert.deepEqual(await recorded('S7002'), []);
      const again = await changed.c.submit('activation-pin', changed.id, { dataAccurate: true, consents: { directory: false } });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.state, 'awaiting_password');
      assert.deepEqual(await recorded('S7002'), [['directory', 'v2', 0]]);
      // The versions are kept only while the step is the flow's.
      const row = await t.ctx.db.kysely.selectFrom('flows').select('data').where('id', '=', changed.id).executeTakeFirstOrThrow();
      assert.ok(!row.data.includes('shownConsents'), row.data);
    } finally {
      directory().version = 'v1';
    }
  });

  it('page: the consent step shown before a change is refused with the new text to read, then recorded with it', async () => {
    const mobile = '+306912340003';
    await seedStudent(t.ctx, { externalId: 'S7003', mobile, email: null, amka: makeAmka('010190', '7003') });
    const b = new FormBrowser(t.app, 'it');
    await b.get('/flows/activation-pin');
    await b.submit({ mobile, email: '' });
    await b.submit({ pin: await lastPinFor(t.app, mobile) });
    assert.match(b.html, /name="consents\.directory"/);
    directory().version = 'v2';
    try {
      await b.submit({ 'consents.directory': 'true', dataAccurate: 'true' });
      assert.equal(b.status, 422);
      assert.ok(b.text().includes('Questo testo è cambiato da quando la pagina è stata mostrata. Rileggilo e indica di nuovo la tua scelta.'), b.text());
      assert.match(b.html, /<input type="checkbox" value="true" id="f-consents\.directory" name="consents\.directory"/);
      assert.deepEqual(await recorded('S7003'), []);
      await b.submit({ 'consents.directory': 'true', dataAccurate: 'true' });
      assert.equal(b.status, 200, b.text());
      assert.deepEqual(await recorded('S7003'), [['directory', 'v2', 1]]);
    } finally {
      directory().version = 'v1';
    }
  });
});
