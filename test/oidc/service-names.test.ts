import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';

describe('the name of a campus service registered or changed through the API', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  const send = async (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: unknown, lang = 'en') => {
    const r = await t.app.inject({ method, url, headers: { ...adminHeaders, 'accept-language': lang }, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.json() as any };
  };
  const service = (name: unknown, id = 'biblioteca') => ({ id, name, protocol: 'oidc', redirectUris: ['https://biblio.example.org/cb'], populations: ['student'] });

  // The name is shown on the sign-in and consent pages: a NUL or a right-to-left override (which
  // shows "Library" reversed, or another text than the one written) was stored as given.
  it('refuses a control character or a text-direction mark (field.control_character, translated), registering nothing', async () => {
    for (const [name, lang, text] of [
      ['Biblio\u0000teca', 'en', /Some fields are not valid/],
      [{ en: 'Library', it: 'Biblio\u202eteca' }, 'it', /Alcuni campi non sono validi/],
      [{ en: 'Library\nSign in here' }, 'el', /Ορισμένα πεδία δεν είναι έγκυρα/],
    ] as const) {
      const r = await send('POST', '/api/v1/admin/services', service(name), lang);
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'validation.failed');
      assert.deepEqual(r.body.error.fields, { name: 'field.control_character' });
      assert.match(r.body.error.message, text);
    }
    const listed = await send('GET', '/api/v1/admin/services');
    assert.deepEqual(listed.body.services, []);
  });

  it('refuses the same in a change, which changes nothing', async () => {
    assert.equal((await send('POST', '/api/v1/admin/services', service({ en: 'Library', it: 'Biblioteca' }))).status, 201);
    const r = await send('PATCH', '/api/v1/admin/services/biblioteca', { name: { en: 'Lib\u200frary' } });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.deepEqual(r.body.error.fields, { name: 'field.control_character' });
    const listed = await send('GET', '/api/v1/admin/services');
    assert.deepEqual(listed.body.services[0].name, { en: 'Library', it: 'Biblioteca' });
  });
});
