import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, testConfig, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { details } from './outbox.js';

// README: names that would pass for the institution are never given. The mail roles were kept
// from registrations, but the institution's own names (`uniupo` at uniupo.it) were handed out.
describe('registration never gives a name that passes for the institution', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({
      config: testConfig((c) => {
        c.institution.id = 'uniupo';
        c.institution.shortName = 'UPO';
        c.institution.domain = 'uniupo.it';
      }),
    });
  });
  after(() => t.close());

  const register = async (username: string, lang: string) => {
    const c = apiClient(t.app, { lang });
    const f = (await c.start('registration')).body;
    return c.submit('registration', f.id, details({ username, email: `${username}.someone@example.org` }));
  };

  it('its id, short name or domain: taken, in the caller’s language; nothing is created', async () => {
    for (const [username, lang, text] of [
      ['uniupo', 'it', 'Questo nome utente è già in uso.'],
      ['upo', 'en', 'This username is already taken.'],
    ] as const) {
      const r = await register(username, lang);
      assert.equal(r.status, 422, `${username}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.error.fields, { username: 'registration.username_taken' });
      assert.equal(r.body.messages.find((m: { field?: string }) => m.field === 'username').text, text);
    }
    const held = await t.ctx.db.kysely.selectFrom('accounts').select('username').where('username_lower', 'in', ['uniupo', 'upo']).execute();
    assert.deepEqual(held, []);
  });

  it('a name that only contains one is a name like any other', async () => {
    const r = await register('uniupo.fan', 'el');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'awaiting_verification');
  });
});
