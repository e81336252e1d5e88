import { notNull, type PortableMigration } from './helpers.js';

/** One-time codes (PINs, reset codes, email links): only their HMAC is stored. */
export const codes: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('one_time_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('purpose', 'text', notNull)
      .addColumn('subject', 'text', notNull)
      .addColumn('code_hash', 'text', notNull)
      .addColumn('destination', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', notNull)
      .addColumn('created_at', 'text', notNull)
      .addColumn('expires_at', 'text', notNull)
      .addColumn('used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('otc_subject').on('one_time_codes').columns(['purpose', 'subject', 'created_at']).execute();
    await db.schema.createIndex('otc_hash').on('one_time_codes').columns(['purpose', 'code_hash']).execute();
  },
  async down(db) {
    await db.schema.dropTable('one_time_codes').execute();
  },
});
