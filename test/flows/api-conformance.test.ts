import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, makeApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

/**
 * The JSON API as an app written from the API specification alone calls it: a wrong input is a
 * 422 naming the field (a wrong type is invalid, not missing), a step the flow is not in is
 * `409 flow.wrong_state`, and the header many HTTP clients send with every request
 * (`Content-Type: application/json`, no body) is no input, not a malformed body.
 */
describe('JSON API: statuses and codes an app relies on', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedAccount(t.ctx, { externalId: 'API1', status: 'active', password: 'Api-Pass-2026' });
  });
  after(() => t.close());

  const raw = (method: 'POST' | 'DELETE', url: string, headers: Record<string, string>, payload?: string) =>
    t.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });

  it('takes an empty body sent as application/json as no input', async () => {
    const started = await raw('POST', '/api/v1/flows/login', { 'content-type': 'application/json' });
    assert.equal(started.statusCode, 201, started.body);
    const id = (started.json() as { id: string }).id;
    const done = await apiClient(t.app).submit('login', id, { username: 'API1', password: 'Api-Pass-2026' });
    assert.equal(done.status, 200);
    const token = done.body.result.sessionToken as string;
    const out = await raw('DELETE', '/api/v1/session', { 'content-type': 'application/json', authorization: `Bearer ${token}` });
    assert.equal(out.statusCode, 204, out.body);
    const job = await raw('POST', '/api/v1/admin/jobs/purge-unused?dryRun=true', { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(job.statusCode, 200, job.body);
    // A body that is not JSON is still refused, in the error envelope.
    const bad = await raw('POST', '/api/v1/flows/login', { 'content-type': 'application/json' }, '{"username":');
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { error: { code: string } }).error.code, 'request.invalid');
  });

  it('answers a value of the wrong type as field.invalid, a missing one as field.required', async () => {
    const c = apiClient(t.app);
    const f = (await c.start('login')).body;
    const typed = await c.submit('login', f.id, { username: 123, password: true });
    assert.equal(typed.status, 422);
    assert.deepEqual(typed.body.error.fields, { username: 'field.invalid', password: 'field.invalid' });
    const missing = await c.submit('login', f.id, {});
    assert.deepEqual(missing.body.error.fields, { username: 'field.required', password: 'field.required' });
    const action = await c.submit('login', f.id, { action: 5, username: 'API1', password: 'Api-Pass-2026' });
    assert.equal(action.status, 400);
    assert.deepEqual(action.body.error.fields, { action: 'field.invalid' });
  });

  it('answers an action the current state does not offer with 409 flow.wrong_state, changing nothing', async () => {
    const c = apiClient(t.app);
    const pin = (await c.start('activation-pin')).body;
    const r = await c.submit('activation-pin', pin.id, { action: 'resend' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'flow.wrong_state');
    assert.equal((await c.get('activation-pin', pin.id)).body.state, 'awaiting_contact');
    const login = (await c.start('login')).body;
    assert.equal((await c.submit('login', login.id, { action: 'resend' })).body.error.code, 'flow.wrong_state');
  });

  it('refuses a plain-text body with 415, as a form body', async () => {
    const f = (await apiClient(t.app).start('login')).body;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await raw('POST', `/api/v1/flows/login/${f.id}`, { 'content-type': type }, 'username=API1');
      assert.equal(r.statusCode, 415, type);
      assert.equal((r.json() as { error: { code: string } }).error.code, 'request.unsupported_media_type');
    }
  });

  it('answers an id no flow has with 404 flow.not_found and a kind no flow has with 404 flow.unknown_kind, whatever their spelling', async () => {
    const c = apiClient(t.app, { lang: 'el' });
    const code = (r: { body: { error?: { code: string } } }) => r.body.error?.code;
    // An id longer than any flow's (an app's stale or mangled reference), or with other letters.
    for (const id of ['x'.repeat(90), 'not.an-id!', 'x'.repeat(24)]) {
      const got = await c.get('login', id);
      assert.equal(got.status, 404, id);
      assert.equal(code(got), 'flow.not_found', id);
      assert.match(got.body.error.message, /βήμα/);
      const sent = await c.submit('login', id, { username: 'API1', password: 'Api-Pass-2026' });
      assert.equal(sent.status, 404, id);
      assert.equal(code(sent), 'flow.not_found', id);
    }
    const f = (await c.start('login')).body;
    for (const kind of ['LOGIN', 'login_', 'x'.repeat(60)]) {
      const started = await c.request('POST', `/api/v1/flows/${kind}`);
      assert.equal(started.status, 404, kind);
      assert.equal(code(started), 'flow.unknown_kind', kind);
      assert.equal(code(await c.get(kind, f.id)), 'flow.unknown_kind', kind);
      assert.equal(code(await c.submit(kind, f.id, {})), 'flow.unknown_kind', kind);
    }
    // The browser's pages answer the same way: a page that does not exist, not a server error.
    for (const url of [`/flows/login/${'x'.repeat(90)}`, '/flows/LOGIN', `/flows/LOGIN/${f.id}`]) {
      const page = await t.app.inject({ method: 'GET', url });
      assert.equal(page.statusCode, 404, url);
    }
    const posted = await t.app.inject({ method: 'POST', url: `/flows/login/${'x'.repeat(90)}`, payload: 'username=API1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(posted.statusCode, 404);
  });
});
