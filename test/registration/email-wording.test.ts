import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromHeader } from '../../src/outbox/senders.js';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { details, lastMessage } from './outbox.js';

describe('the wording of the registration emails', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    assert.equal(t.ctx.config.institution.timeZone, 'Europe/Rome');
  });
  after(() => t.close());

  async function register(lang: string, username: string, email: string, givenName: string) {
    const c = apiClient(t.app, { lang });
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username, email, givenName }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return { c, f };
  }

  it('the subject begins with the institution; Italian is the same for everyone; Greek greets without the name', async () => {
    await register('it', 'chiara.rossi', 'chiara@example.org', 'Chiara');
    const it = (await lastMessage(t.ctx, 'chiara@example.org', 'email_verification'))!;
    assert.equal(it.subject, 'Università Demo: attiva le tue credenziali');
    assert.match(it.text, /^Gentile Chiara,\n\nHai completato la registrazione con il nome utente chiara\.rossi\. Apri questo link entro 24 ore/);
    assert.doesNotMatch(it.text, /registrat[oa]\b/);

    await register('en', 'john.smith', 'john@example.org', 'John');
    const en = (await lastMessage(t.ctx, 'john@example.org', 'email_verification'))!;
    assert.equal(en.subject, 'Demo University: activate your credentials');
    assert.match(en.text, /^Hello John,\n\nYou have registered/);

    await register('el', 'nikos.p', 'nikos@example.org', 'Νίκος');
    const el = (await lastMessage(t.ctx, 'nikos@example.org', 'email_verification'))!;
    assert.equal(el.subject, 'Πανεπιστήμιο Demo: ενεργοποιήστε τα διαπιστευτήριά σας');
    assert.match(el.text, /^Γεια σας,\n\nΕγγραφήκατε με όνομα χρήστη nikos\.p\./);
    assert.doesNotMatch(el.text, /Νίκος|Αγαπητ/);
    assert.match(el.html!, /^<!doctype html><html lang="el"><body>\n<p>Γεια σας,<\/p>/);
  });

  it('a link sent again gives its deadline with the institution’s time zone, in the recipient’s language', async () => {
    t.clock.advance(61_000);
    const expected: Record<string, [string, RegExp]> = {
      it: ['chiara@example.org', /Hai completato la registrazione con il nome utente chiara\.rossi\. Apri questo link entro il 24\/11\/26, 10:00 \(ora dell’Europa centrale\) per attivare le credenziali:/],
      en: ['john@example.org', /Open this link by 24\/11\/2026, 10:00 \(Central European Time\) to activate/],
      el: ['nikos@example.org', /Ανοίξτε αυτόν τον σύνδεσμο έως .+ \(ώρα Κεντρικής Ευρώπης\) για να ενεργοποιήσετε/],
    };
    for (const [lang, [email, text]] of Object.entries(expected)) {
      const username = { it: 'chiara.rossi', en: 'john.smith', el: 'nikos.p' }[lang]!;
      const c = apiClient(t.app, { lang });
      const flowId = (await t.ctx.db.kysely.selectFrom('registrations').innerJoin('accounts', 'accounts.id', 'registrations.account_id').select('registrations.flow_id').where('accounts.username_lower', '=', username).executeTakeFirstOrThrow()).flow_id!;
      const r = await c.submit('registration', flowId, { action: 'resend' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const mail = (await lastMessage(t.ctx, email, 'email_verification'))!;
      assert.equal(mail.count, 2);
      assert.match(mail.text, text);
    }
  });

  it('the From names the institution in its default language when it has no short name', () => {
    const config = testConfig((c) => {
      c.institution.name = { it: 'Università del Piemonte Orientale', en: 'University of Eastern Piedmont' };
      delete c.institution.shortName;
      c.institution.domain = 'uniupo.it';
      c.institution.defaultLocale = 'it';
    });
    assert.equal(fromHeader(config.institution), '"Università del Piemonte Orientale" <no-reply@uniupo.it>');
    assert.equal(fromHeader({ ...config.institution, shortName: 'UniUPO' }), '"UniUPO" <no-reply@uniupo.it>');
  });
});
