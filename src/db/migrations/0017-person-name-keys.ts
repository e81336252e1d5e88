import { sql } from 'kysely';
import { nameKeyColumns } from '../../domain/name-key.js';
import type { AnyDb, PortableMigration } from './helpers.js';

/** Rows read and written per statement while the keys of existing people are computed. */
const batchSize = 500;

/**
 * The helpdesk finds people by name (admin/find-accounts.ts): each person's name reduced to a key
 * (domain/name-key.ts), "family given" and "given family", each with an index, and a search reads
 * a prefix of one as a range of the index. In PostgreSQL the columns compare byte by byte
 * (COLLATE "C"), as SQLite's do: under a language's collation a range bounded by a prefix is not
 * the strings that start with it, and the index could not serve it. The keys are computed in
 * JavaScript, by the function every write uses, for the people already stored. The columns stay
 * nullable (SQLite adds a NOT NULL column only with a default); every write sets them.
 */
export const personNameKeys: PortableMigration = (dialect) => ({
  async up(db) {
    for (const column of ['name_key_family_first', 'name_key_given_first']) {
      await db.schema
        .alterTable('persons')
        .addColumn(column, 'text', (c) => (dialect === 'postgres' ? c.modifyEnd(sql`collate "C"`) : c))
        .execute();
    }
    await backfill(db);
    await db.schema.createIndex('persons_name_key_family_first').on('persons').column('name_key_family_first').execute();
    await db.schema.createIndex('persons_name_key_given_first').on('persons').column('name_key_given_first').execute();
  },
  async down(db) {
    await db.schema.dropIndex('persons_name_key_given_first').execute();
    await db.schema.dropIndex('persons_name_key_family_first').execute();
    await db.schema.alterTable('persons').dropColumn('name_key_given_first').execute();
    await db.schema.alterTable('persons').dropColumn('name_key_family_first').execute();
  },
});

/**
 * The keys of every stored person, a batch at a time in the order of the primary key (never the
 * whole table in memory), each batch one UPDATE … FROM (VALUES …), which both databases take.
 */
async function backfill(db: AnyDb): Promise<void> {
  let after = '';
  for (;;) {
    const rows: Array<{ id: string; given_name: string; family_name: string }> = await db
      .selectFrom('persons')
      .select(['id', 'given_name', 'family_name'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) return;
    const values = rows.map((r) => {
      const k = nameKeyColumns(r.given_name, r.family_name);
      return sql`(${r.id}, ${k.name_key_family_first}, ${k.name_key_given_first})`;
    });
    await sql`update persons set name_key_family_first = v.column2, name_key_given_first = v.column3
      from (values ${sql.join(values)}) as v where persons.id = v.column1`.execute(db);
    after = rows[rows.length - 1]!.id;
  }
}
