import { sql } from 'kysely';
import { notNull, type PortableMigration } from './helpers.js';

/** Offices (org units), their IT referents, and mailbox requests awaiting a referent. */
export const mailboxes: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('org_units')
      .addColumn('code', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', notNull)
      .addColumn('type', 'text', notNull)
      .addColumn('parent', 'text')
      .addColumn('created_at', 'text', notNull)
      .addColumn('updated_at', 'text', notNull)
      .execute();
    await db.schema.createIndex('org_units_parent').on('org_units').column('parent').execute();

    await db.schema
      .createTable('org_unit_referents')
      .addColumn('org_unit', 'text', (c) => c.notNull().references('org_units.code').onDelete('cascade'))
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('created_at', 'text', notNull)
      .addPrimaryKeyConstraint('org_unit_referents_pk', ['org_unit', 'account_id'])
      .execute();
    await db.schema.createIndex('org_unit_referents_account').on('org_unit_referents').column('account_id').execute();

    await db.schema
      .createTable('mailbox_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('person_id', 'text', notNull)
      .addColumn('org_unit', 'text')
      .addColumn('flow_id', 'text')
      .addColumn('status', 'text', notNull)
      .addColumn('address', 'text')
      .addColumn('comment', 'text')
      .addColumn('decided_by', 'text')
      .addColumn('locale', 'text', notNull)
      .addColumn('created_at', 'text', notNull)
      .addColumn('decided_at', 'text')
      .addColumn('reminded_at', 'text')
      .addColumn('expires_at', 'text', notNull)
      .execute();
    await db.schema.createIndex('mailbox_requests_status').on('mailbox_requests').columns(['status', 'org_unit']).execute();
    await db.schema.createIndex('mailbox_requests_account').on('mailbox_requests').columns(['account_id', 'status']).execute();
    // At most one pending request per account, whatever races the application loses.
    await db.schema.createIndex('mailbox_requests_one_pending').on('mailbox_requests').column('account_id').unique().where(sql.ref('status'), '=', 'pending').execute();
  },
  async down(db) {
    for (const t of ['mailbox_requests', 'org_unit_referents', 'org_units']) await db.schema.dropTable(t).execute();
  },
});
