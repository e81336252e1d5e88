import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assignAddress, assignUsername } from '../../src/accounts/mailbox.js';
import type { Person } from '../../src/accounts/types.js';
import { makeApp, type TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';
import { seedAccount } from '../helpers/fixtures.js';

/**
 * Two transactions giving out a name from the same pattern at once (two referents opening the
 * mailboxes of two colleagues called alike, two instances activating them) get different names:
 * the first free one is chosen under a lock on the name, not only checked by the unique index.
 */
describe('addresses and usernames given out at once', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp();
  });
  after(() => t.close());

  it('two people with the same name get nome.cognome and nome.cognome2, never an error', async () => {
    const people = await Promise.all(
      [1, 2, 3].map((i) => seedAccount(t.ctx, { externalId: `SAME${i}`, population: 'staff', username: `same${i}`, givenName: 'Nome', familyName: 'Cognome', email: null })),
    );
    const persons = await t.ctx.db.kysely.selectFrom('persons').selectAll().where('external_id', 'like', 'SAME%').execute();
    const given = await Promise.all(
      people.map((p) =>
        t.ctx.db.kysely.transaction().execute(async (tx) => {
          const row = persons.find((x) => x.id === p.personId)!;
          const person = { population: row.population, externalId: row.external_id, givenName: row.given_name, familyName: row.family_name } as Person;
          const address = (await assignAddress(t.ctx, tx, person, null))!;
          const username = await assignUsername(t.ctx, tx, person);
          await tx.updateTable('accounts').set({ email: address, email_lower: address.toLowerCase(), username, username_lower: username.toLowerCase() }).where('id', '=', p.accountId).execute();
          return [address, username] as const;
        }),
      ),
    );
    const addresses = given.map(([a]) => a).sort();
    assert.deepEqual(addresses, ['nome.cognome2@unidemo.example.org', 'nome.cognome3@unidemo.example.org', 'nome.cognome@unidemo.example.org']);
    assert.equal(new Set(given.map(([, u]) => u)).size, 3, 'three different usernames');
  });

  const importCsv = (body: string, query = '') =>
    t.app.inject({ method: 'POST', url: `/api/v1/admin/imports${query}`, payload: body, headers: { ...adminHeaders, 'content-type': 'text/csv' } });

  it('imports naming populations in opposite orders, at once, both finish', async () => {
    const rows = (pop: string, from: number) => Array.from({ length: 30 }, (_, i) => `${pop},X${from + i},Anna,Bassi${from + i}`);
    for (let round = 0; round < 3; round++) {
      const a = ['population,externalId,givenName,familyName', ...rows('student', round * 1000), ...rows('external', round * 1000 + 500)].join('\n');
      const b = ['population,externalId,givenName,familyName', ...rows('external', round * 1000 + 500), ...rows('student', round * 1000)].join('\n');
      const [ra, rb] = await Promise.all([importCsv(a), importCsv(b)]);
      assert.equal(ra.statusCode, 200, ra.body);
      assert.equal(rb.statusCode, 200, rb.body);
      assert.equal(ra.json().created + rb.json().created, 60);
    }
  });

  it('two populations with the same username pattern import the same new name at once: two usernames', async () => {
    for (let round = 0; round < 3; round++) {
      const csvOf = (id: string) => `externalId,givenName,familyName\n${id},Ugo,Pari${round}\n`;
      const [a, b] = await Promise.all([importCsv(csvOf(`ST${round}`), '?population=staff'), importCsv(csvOf(`SS${round}`), '?population=school_staff')]);
      assert.equal(a.statusCode, 200, a.body);
      assert.equal(b.statusCode, 200, b.body);
      const names = await t.ctx.db.kysely.selectFrom('accounts').select('username').where('username_lower', 'like', `ugo.pari${round}%`).execute();
      assert.equal(names.length, 2, JSON.stringify(names));
    }
  });
});
