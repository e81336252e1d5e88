import { notNull, type PortableMigration } from './helpers.js';

/**
 * Per-target provisioning status of each account (the operations themselves are outbox rows on
 * `provision:<target>` channels). One row per (account, target), updated by every delivery.
 */
export const provisioning: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('provisioning_state')
      .addColumn('account_id', 'text', notNull)
      .addColumn('target', 'text', notNull)
      .addColumn('status', 'text', notNull)
      .addColumn('last_op', 'text', notNull)
      .addColumn('last_error', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'text', notNull)
      .addPrimaryKeyConstraint('provisioning_state_pk', ['account_id', 'target'])
      .execute();
    await db.schema.createIndex('provisioning_state_status').on('provisioning_state').columns(['target', 'status']).execute();
  },
  async down(db) {
    await db.schema.dropTable('provisioning_state').execute();
  },
});
