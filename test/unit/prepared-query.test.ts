import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/db/connect.js';
import { migrateUp } from '../../src/db/migrate.js';
import { preparedQuery } from '../../src/db/prepared.js';
import { freshDb } from '../helpers/app.js';

const insertMark = preparedQuery((db, job: string, accountId: string, at: string) => db.insertInto('job_marks').values({ job, account_id: accountId, mark: 'm', at }));
const marksOf = preparedQuery((db, job: string) => db.selectFrom('job_marks').select(['account_id', 'at']).where('job', '=', job).orderBy('at', 'asc'));
const renameJob = preparedQuery((db, from: string, to: string) => db.updateTable('job_marks').set({ job: to }).where('job', '=', from));

describe('prepared queries', () => {
  let db: Db;
  let drop: () => Promise<void>;
  before(async () => {
    ({ db, drop } = await freshDb());
    await migrateUp(db);
  });
  after(() => drop());

  it('run with new values each time, inside and outside transactions, like the query built anew', async () => {
    assert.equal(await insertMark.run(db.kysely, 'j.one', 'a1', '2026-01-01T00:00:00.000Z'), 1);
    await db.kysely.transaction().execute(async (tx) => {
      assert.equal(await insertMark.run(tx, 'j.one', 'a2', '2026-01-02T00:00:00.000Z'), 1);
      assert.equal(await insertMark.run(tx, 'j.two', 'a3', '2026-01-03T00:00:00.000Z'), 1);
    });
    assert.deepEqual(await marksOf.all(db.kysely, 'j.one'), [
      { account_id: 'a1', at: '2026-01-01T00:00:00.000Z' },
      { account_id: 'a2', at: '2026-01-02T00:00:00.000Z' },
    ]);
    assert.deepEqual(await marksOf.first(db.kysely, 'j.two'), { account_id: 'a3', at: '2026-01-03T00:00:00.000Z' });
    assert.equal(await marksOf.first(db.kysely, 'j.none'), undefined);
    assert.equal(await renameJob.run(db.kysely, 'j.one', 'j.renamed'), 2);
    assert.equal(await renameJob.run(db.kysely, 'j.one', 'j.renamed'), 0);
    const built = await db.kysely.selectFrom('job_marks').select(['account_id', 'at']).where('job', '=', 'j.renamed').orderBy('at', 'asc').execute();
    assert.equal(built.length, 2);
    assert.deepEqual(await marksOf.all(db.kysely, 'j.renamed'), built);
  });

  it('refuse an undefined value, an argument computed on, and an argument not used as a value', async () => {
    await assert.rejects(marksOf.all(db.kysely, undefined as unknown as string), /argument 0 is undefined/);
    const computed = preparedQuery((d, n: number) => d.selectFrom('job_marks').select('job').where('at', '=', String(n + 1)));
    await assert.rejects(computed.all(db.kysely, 1), /may only be used as a value/);
    const unused = preparedQuery((d, _action: string) => d.selectFrom('job_marks').select('job'));
    await assert.rejects(unused.all(db.kysely, 'x'), /uses 0 of its 1 arguments/);
  });

  const insert = preparedQuery((k, id: string, payload: string, expiresAt: string | null) =>
    k
      .insertInto('oidc_payloads')
      .values({ model: 'Test', id, payload, expires_at: expiresAt, consumed_at: null, grant_id: null, user_code: null, uid: null, account_id: null })
      .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({ payload, expires_at: expiresAt })),
  );
  const find = preparedQuery((k, id: string) => k.selectFrom('oidc_payloads').select(['id', 'payload', 'expires_at']).where('model', '=', 'Test').where('id', '=', id));

  it('runs the compiled query again with each call’s values, keeping the query’s own constants', async () => {
    await insert.run(db.kysely, 'a', '{"n":1}', null);
    await insert.run(db.kysely, 'b', '{"n":2}', '2030-01-01T00:00:00.000Z');
    // A value used twice (insert and conflict update) takes the new value in both places.
    await insert.run(db.kysely, 'a', '{"n":3}', '2031-01-01T00:00:00.000Z');
    assert.deepEqual(await find.all(db.kysely, 'a'), [{ id: 'a', payload: '{"n":3}', expires_at: '2031-01-01T00:00:00.000Z' }]);
    assert.deepEqual(await find.all(db.kysely, 'b'), [{ id: 'b', payload: '{"n":2}', expires_at: '2030-01-01T00:00:00.000Z' }]);
    assert.deepEqual(await find.all(db.kysely, 'missing'), []);
    const other = await db.kysely.selectFrom('oidc_payloads').select('id').where('model', '!=', 'Test').execute();
    assert.deepEqual(other, []);
  });

  it('works inside a transaction, which sees its own writes and is rolled back with it', async () => {
    await assert.rejects(
      db.kysely.transaction().execute(async (tx) => {
        await insert.run(tx, 'c', '{"n":4}', null);
        assert.equal((await find.all(tx, 'c')).length, 1);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await find.all(db.kysely, 'c'), []);
  });
});
