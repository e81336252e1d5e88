import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { details, lastMessage, verificationLink } from '../registration/outbox.js';

describe('purge-unused warning language', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  async function registerIn(lang: string, username: string, email: string) {
    const c = apiClient(t.app, { lang });
    const f = (await c.start('registration')).body;
    assert.equal((await c.submit('registration', f.id, details({ username, email }))).status, 200);
    const done = await c.submit('registration', f.id, { token: (await verificationLink(t.ctx, email)).token });
    assert.equal(done.body.state, 'completed');
  }

  it('goes out in the language the person registered in; the institution’s default otherwise', async () => {
    assert.equal(t.ctx.config.institution.defaultLocale, 'it');
    t.clock.set('2025-06-01T10:00:00Z');
    await registerIn('en', 'english.user', 'english@example.org');
    await registerIn('el', 'greek.user', 'greek@example.org');
    // A registration stored before the language was kept with the record and the account: its flow's language.
    const greek = await t.ctx.db.kysely
      .selectFrom('accounts')
      .innerJoin('persons', 'persons.id', 'accounts.person_id')
      .select(['persons.id as id', 'persons.extra as extra'])
      .where('accounts.username_lower', '=', 'greek.user')
      .executeTakeFirstOrThrow();
    const { locale: _kept, ...rest } = JSON.parse(greek.extra) as Record<string, unknown>;
    await t.ctx.db.kysely.updateTable('persons').set({ extra: JSON.stringify(rest) }).where('id', '=', greek.id).execute();
    await t.ctx.db.kysely.updateTable('accounts').set({ locale: null }).where('username_lower', '=', 'greek.user').execute();
    await seedAccount(t.ctx, { externalId: 'ext-old', population: 'external', username: 'imported.user', email: 'imported@example.org', personalEmail: 'imported@example.org', status: 'active' });

    t.clock.set('2026-12-03T03:00:00Z');
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/admin/jobs/purge-unused', headers: adminHeaders });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().counts, { warned: 3 });

    const en = await lastMessage(t.ctx, 'english@example.org', 'purge_warning');
    assert.equal(en!.subject, 'Demo University: your registration will be cancelled');
    assert.match(en!.text, /^Hello Mario,\n\n/);
    assert.match(en!.text, /will be cancelled on 1 January 2027\./);
    assert.match(en!.text, /\/flows\/login\?lang=en/);
    const el = await lastMessage(t.ctx, 'greek@example.org', 'purge_warning');
    assert.equal(el!.subject, 'Πανεπιστήμιο Demo: η εγγραφή σας θα ακυρωθεί');
    // Greek greets without the name (it would need the vocative); the first of the month is an ordinal.
    assert.match(el!.text, /^Γεια σας,\n\n/);
    assert.doesNotMatch(el!.text, /Mario/);
    assert.match(el!.text, /θα ακυρωθεί την 1η Ιανουαρίου 2027\./);
    const byDefault = await lastMessage(t.ctx, 'imported@example.org', 'purge_warning');
    assert.equal(byDefault!.subject, 'Università Demo: la tua registrazione sarà annullata');
    assert.match(byDefault!.text, /sarà annullata il 1° gennaio 2027\./);
  });
});
