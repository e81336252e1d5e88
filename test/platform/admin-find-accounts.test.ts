import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

/** The helpdesk finds a person by what the caller can tell, exactly, and sees what matched. */
describe('admin: finding accounts', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
    await seedAccount(t.ctx, {
      externalId: '20261234',
      givenName: 'Maria',
      familyName: 'Rossi',
      taxCode: 'RSSMRA80A01F205X',
      mobile: '+393471234567',
      personalEmail: 'Maria.Rossi@Example.org',
      email: '20261234@studenti.unidemo.example.org',
      status: 'active',
    });
    await seedAccount(t.ctx, { externalId: 'D-0042', population: 'staff', username: 'l.bianchi', givenName: 'Luca', familyName: 'Bianchi', amka: '15010523452', birthDate: '2005-01-15', status: 'active' });
    // Same mobile as Maria (a family phone): both are listed.
    await seedAccount(t.ctx, { externalId: '20265678', givenName: 'Sara', familyName: 'Rossi', mobile: '+393471234567', status: 'active' });
  });
  after(() => t.close());
  const find = async (query: string) => {
    const r = await apiClient(t.app).request('GET', `/api/v1/admin/accounts?${query}`, undefined, adminHeaders);
    return r;
  };
  const names = (r: { body: { accounts: Array<{ username: string; matchedBy: string[] }> } }) => r.body.accounts.map((a) => `${a.username}:${a.matchedBy.join('+')}`);

  it('by username, institutional address and personal address, in any case', async () => {
    assert.deepEqual(names(await find('q=20261234')), ['20261234:username+external_id']);
    assert.deepEqual(names(await find('q=L.Bianchi')), ['l.bianchi:username']);
    assert.deepEqual(names(await find(`q=${encodeURIComponent('20261234@STUDENTI.unidemo.example.org')}`)), ['20261234:email']);
    assert.deepEqual(names(await find(`q=${encodeURIComponent(' maria.rossi@example.org ')}`)), ['20261234:personal_email']);
  });

  it('by registrar id, codice fiscale (any case) and AMKA (with a dash)', async () => {
    assert.deepEqual(names(await find('q=D-0042')), ['l.bianchi:external_id']);
    assert.deepEqual(names(await find('q=rssmra80a01f205x')), ['20261234:tax_code']);
    assert.deepEqual(names(await find('q=150105-23452')), ['l.bianchi:amka']);
  });

  it('by phone number in any common notation, listing everyone on it', async () => {
    for (const phone of ['347 123 4567', '+39 347-1234567', '0039 3471234567']) {
      assert.deepEqual(names(await find(`q=${encodeURIComponent(phone)}`)), ['20261234:mobile', '20265678:mobile'], phone);
    }
  });

  it('answers the fields the helpdesk needs, never a password hash', async () => {
    const r = await find('q=20261234');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.accounts[0], {
      username: '20261234',
      status: 'active',
      email: '20261234@studenti.unidemo.example.org',
      population: 'student',
      externalId: '20261234',
      givenName: 'Maria',
      familyName: 'Rossi',
      matchedBy: ['username', 'external_id'],
    });
  });

  it('matches nothing by part of a value', async () => {
    for (const q of ['Rossi', '2026', 'maria', 'rossi@example.org', '347']) assert.deepEqual((await find(`q=${encodeURIComponent(q)}`)).body.accounts, [], q);
  });

  it('keeps to the limit', async () => {
    assert.equal((await find('q=3471234567&limit=1')).body.accounts.length, 1);
  });

  it('refuses a missing, empty, too long or control-character term and unknown parameters', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['', { q: 'field.required' }],
      ['q=%20%20', { q: 'field.required' }],
      [`q=${'x'.repeat(201)}`, { q: 'field.too_long' }],
      ['q=a%E2%80%AEb', { q: 'field.control_character' }],
      ['q=x&limit=0', { limit: 'field.invalid' }],
      ['q=x&name=Rossi', { name: 'field.unknown' }],
    ];
    for (const [query, fields] of cases) {
      const r = await find(query);
      assert.equal(r.status, 422, query);
      assert.equal(r.body.error.code, 'validation.failed', query);
      assert.deepEqual(r.body.error.fields, fields, query);
    }
  });

  it('is for administrators only', async () => {
    const r = await apiClient(t.app).request('GET', '/api/v1/admin/accounts?q=20261234');
    assert.equal(r.status, 401);
  });
});
