import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery } from 'kysely';
import { purgeAccounts } from '../../src/accounts/purge.js';
import { personsByName } from '../../src/admin/find-accounts.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders, apiClient } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';
import { csv, postImport } from '../imports/helpers.js';

/** The helpdesk finds a person by what the caller can tell, exactly or by the start of the name, and sees what matched. */
describe('admin: finding accounts', () => {
  let t: TestApp;
  let purgeable: string;
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
    // Names as registrars write them: accents, a typographic apostrophe, Greek with tonos and final sigma.
    await seedAccount(t.ctx, { externalId: '20269001', givenName: 'Paolo', familyName: 'Rossini', status: 'active' });
    await seedAccount(t.ctx, { externalId: '20269002', givenName: 'Nicolò', familyName: 'Ferrà', status: 'active' });
    await seedAccount(t.ctx, { externalId: '20269003', givenName: 'José', familyName: 'D’Angelo', status: 'active' });
    await seedAccount(t.ctx, { externalId: 'D-0077', population: 'staff', username: 'm.papadopoulou', givenName: 'Μαρία', familyName: 'Παπαδοπούλου', status: 'active' });
    await seedAccount(t.ctx, { externalId: 'D-0078', population: 'staff', username: 'g.stavropoulos', givenName: 'Γιώργος', familyName: 'Σταυρόπουλος', status: 'active' });
    // A username that is also a surname someone else bears.
    await seedAccount(t.ctx, { externalId: 'D-0099', population: 'staff', username: 'rossi', givenName: 'Anna', familyName: 'Verdi', status: 'active' });
    purgeable = (await seedAccount(t.ctx, { externalId: '20269999', givenName: 'Gianni', familyName: 'Cancellato', status: 'active' })).accountId;
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

  it('matches nothing by part of a value but the start of a name', async () => {
    for (const q of ['2026', 'rossi@example.org', '347', 'ossi', 'aria', 'angelo', 'rossi2']) assert.deepEqual((await find(`q=${encodeURIComponent(q)}`)).body.accounts, [], q);
  });

  const byName = async (q: string, limit?: number) => names(await find(`q=${encodeURIComponent(q)}${limit ? `&limit=${limit}` : ''}`));

  it('by the start of the family name, in any case and without accents', async () => {
    assert.deepEqual(await byName('rossi'), ['rossi:username', '20261234:name', '20265678:name', '20269001:name']);
    assert.deepEqual(await byName('ROSSIN'), ['20269001:name']);
    for (const q of ['ferra', 'Ferrà', 'FERRA NICOLO', 'nicolò ferrà', 'Nicolo Fer']) assert.deepEqual(await byName(q), ['20269002:name'], q);
  });

  it('by the name in either order, a word started or whole', async () => {
    for (const q of ['rossi maria', 'Maria Rossi', 'rossi m', 'maria ro', '  maria   rossi ']) assert.deepEqual(await byName(q), ['20261234:name'], q);
    assert.deepEqual(await byName('sara rossi'), ['20265678:name']);
    assert.deepEqual(await byName('maria bianchi'), []);
  });

  it('with or without the apostrophe, of any kind', async () => {
    for (const q of ["d'angelo", 'D’Angelo', "D' Angelo", 'dangelo', "josé d'angelo", "D'ANGELO JOSE"]) assert.deepEqual(await byName(q), ['20269003:name'], q);
  });

  it('in Greek, without tonos and with either sigma, but never transliterated', async () => {
    for (const q of ['παπαδοπουλου', 'Παπαδοπούλου', 'ΠΑΠΑΔΟΠΟΥΛΟΥ', 'μαρια παπαδοπουλου', 'Παπαδοπούλου Μαρία']) assert.deepEqual(await byName(q), ['m.papadopoulou:name'], q);
    for (const q of ['Σταυρόπουλος', 'σταυροπουλοσ', 'ΣΤΑΥΡΟΠΟΥΛΟΣ ΓΙΩΡΓΟΣ', 'γιώργος σταυρόπουλος', 'Γιωργος Σταυ']) assert.deepEqual(await byName(q), ['g.stavropoulos:name'], q);
    assert.deepEqual(await byName('papadopoulou'), []);
  });

  it('from 3 letters on', async () => {
    for (const q of ['ro', 'Ro', "d'a", 'σ']) assert.deepEqual(await byName(q), [], q);
    assert.deepEqual(await byName('ros'), ['20261234:name', '20265678:name', '20269001:name']);
  });

  it('by name too, keeps to the limit, the exact matches first', async () => {
    assert.deepEqual(await byName('rossi', 2), ['rossi:username', '20261234:name']);
    assert.deepEqual(await byName('rossi', 1), ['rossi:username']);
    assert.deepEqual(await byName('ros', 2), ['20261234:name', '20265678:name']);
  });

  it('follows the registrar: a name changed by an import is found by the new name, no longer by the old', async () => {
    const header = ['externalId', 'givenName', 'familyName', 'status'];
    assert.equal((await postImport(t, csv(header, ['20268001', 'Chiara', 'Lombardi', 'enrolled']), 'population=student')).status, 200);
    assert.deepEqual(await byName('lombardi chiara'), ['20268001:name']);
    assert.equal((await postImport(t, csv(header, ['20268001', 'Chiara', 'Lombardò', 'enrolled']), 'population=student')).body.updated, 1);
    assert.deepEqual(await byName('lombardo'), ['20268001:name']);
    assert.deepEqual(await byName('lombardi'), []);
  });

  it('reads a name from its index, never the whole table', async () => {
    const db = t.ctx.db;
    for (const column of ['name_key_family_first', 'name_key_given_first'] as const) {
      const q = personsByName(db.kysely, column, 'rossi m', 20).compile();
      const plan = await db.kysely.transaction().execute(async (tx) => {
        // PostgreSQL takes a few rows whole however they are indexed: with the whole table ruled
        // out, a plan that still reads it says the index cannot serve the range (a collation
        // other than the column's, a LIKE without text_pattern_ops).
        if (db.dialect === 'postgres') await tx.executeQuery(CompiledQuery.raw('set local enable_seqscan = off'));
        const explain = db.dialect === 'postgres' ? 'explain ' : 'explain query plan ';
        return (await tx.executeQuery(CompiledQuery.raw(explain + q.sql, [...q.parameters]))).rows.map((r) => Object.values(r as object).join(' ')).join('\n');
      });
      assert.match(plan, new RegExp(`(Index|Index Only) Scan using persons_${column}|SEARCH persons USING (COVERING )?INDEX persons_${column} \\(${column}>\\? AND ${column}<\\?\\)`), plan);
    }
  });

  it('never finds a purged person by name', async () => {
    assert.deepEqual(await byName('cancellato'), ['20269999:name']);
    const ctx = t.ctx;
    await ctx.db.kysely.transaction().execute((tx) => purgeAccounts(tx, ctx.db.dialect, [purgeable], { actor: 'admin:test', reason: 'test', at: ctx.clock.now(), provisioning: ctx }));
    assert.deepEqual(await byName('cancellato'), []);
    assert.deepEqual(await byName('gianni can'), []);
    const keys = await ctx.db.kysely.selectFrom('persons').select('id').where('name_key_family_first', 'like', 'cancellato%').execute();
    assert.deepEqual(keys, [], 'no name key is left of the purged person');
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
