import { notNull, type PortableMigration } from './helpers.js';

/**
 * Helpdesk tickets opened from failure pages, and the privacy choices people make while
 * activating (each with the version of the text they were shown).
 */
export const activationPin: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('tickets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', notNull)
      .addColumn('status', 'text', notNull)
      .addColumn('flow_kind', 'text')
      .addColumn('flow_state', 'text')
      .addColumn('error_code', 'text')
      .addColumn('reference', 'text')
      .addColumn('occurred_at', 'text')
      .addColumn('contact', 'text', notNull)
      .addColumn('name', 'text')
      .addColumn('message', 'text', notNull)
      .addColumn('locale', 'text', notNull)
      .addColumn('ip', 'text')
      .execute();
    await db.schema.createIndex('tickets_created').on('tickets').columns(['created_at', 'id']).execute();
    await db.schema
      .createTable('consent_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('person_id', 'text', notNull)
      .addColumn('account_id', 'text')
      .addColumn('consent_id', 'text', notNull)
      .addColumn('version', 'text', notNull)
      .addColumn('granted', 'integer', notNull)
      .addColumn('locale', 'text', notNull)
      .addColumn('at', 'text', notNull)
      .execute();
    await db.schema.createIndex('consent_person').on('consent_records').columns(['person_id', 'consent_id', 'at']).execute();
  },
  async down(db) {
    await db.schema.dropTable('consent_records').execute();
    await db.schema.dropTable('tickets').execute();
  },
});
