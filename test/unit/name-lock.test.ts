import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assignAddress, assignUsername } from '../../src/accounts/mailbox.js';
import type { Person } from '../../src/accounts/types.js';
import { makeApp, type TestApp } from '../helpers/app.js';
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
          const address = (await assignAddress(t.ctx, tx, person))!;
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
});
