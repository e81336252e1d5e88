import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { details, lastMessage } from './outbox.js';

// The language remembered with a new or newly activated account is the one the person chose or
// asked for, else the institution's default — never the English an API answer falls back to.
describe('the language remembered with an account', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: testConfig((c) => (c.institution.defaultLocale = 'el')) });
  });
  after(() => t.close());

  const localeOf = async (username: string) =>
    (await t.ctx.db.kysely.selectFrom('accounts').select('locale').where('username_lower', '=', username).executeTakeFirstOrThrow()).locale;

  async function register(username: string, email: string, lang?: string) {
    const c = apiClient(t.app, lang ? { lang } : {});
    const f = (await c.start('registration')).body;
    const r = await c.submit('registration', f.id, details({ username, email }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r;
  }

  it('registration through the API asking for no language: the institution’s default, for the account, the person and the link', async () => {
    await register('anna.verdi', 'anna.verdi@example.org');
    assert.equal(await localeOf('anna.verdi'), 'el');
    const person = await t.ctx.db.kysely
      .selectFrom('persons')
      .innerJoin('accounts', 'accounts.person_id', 'persons.id')
      .select('persons.extra')
      .where('accounts.username_lower', '=', 'anna.verdi')
      .executeTakeFirstOrThrow();
    assert.equal((JSON.parse(person.extra) as { locale: string }).locale, 'el');
    assert.equal((await lastMessage(t.ctx, 'anna.verdi@example.org', 'email_verification'))!.lang, 'el');
  });

  it('registration asking for a language (Accept-Language): that language', async () => {
    await register('luca.neri', 'luca.neri@example.org', 'it-IT,it;q=0.9');
    assert.equal(await localeOf('luca.neri'), 'it');
    assert.equal((await lastMessage(t.ctx, 'luca.neri@example.org', 'email_verification'))!.lang, 'it');
  });

  it('activation through the API asking for no language: the institution’s default; a language asked for wins', async () => {
    for (const [id, lang, expected] of [['20269001', undefined, 'el'], ['20269002', 'en', 'en']] as const) {
      await seedAccount(t.ctx, { externalId: id, passwordHash: bcrypt.hashSync('Enrol-2026', 4) });
      assert.equal(await localeOf(id), null);
      const c = apiClient(t.app, lang ? { lang } : {});
      const f = (await c.start('activation-password')).body;
      const r = await c.submit('activation-password', f.id, { population: 'student', username: id, currentPassword: 'Enrol-2026', newPassword: 'Nuova-Strada42', newPasswordConfirm: 'Nuova-Strada42' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(await localeOf(id), expected);
    }
  });
});
