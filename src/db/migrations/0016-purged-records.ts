import { notNull, type PortableMigration } from './helpers.js';

/**
 * What a purge leaves of a registrar record it removed (accounts/purged-records.ts), so that the
 * registrar's next file, which still lists the person, does not create them again: a keyed hash
 * of (population, external id), when and why. Nothing that names the person. The import looks
 * the keys of a batch's new rows up by the primary key.
 */
export const purgedRecords: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('purged_records')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('purged_at', 'text', notNull)
      .addColumn('reason', 'text', notNull)
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('purged_records').execute();
  },
});
