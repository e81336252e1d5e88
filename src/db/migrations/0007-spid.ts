import { notNull, type PortableMigration } from './helpers.js';

/**
 * SPID: pending authentication requests (single use), the link between a SPID identity (keyed by
 * the codice fiscale) and an account, and the authentication level of a session (`acr`).
 */
export const spid: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('spid_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('idp', 'text', notNull)
      .addColumn('level', 'text', notNull)
      .addColumn('comparison', 'text', notNull)
      .addColumn('relay_state', 'text', (c) => c.notNull().unique())
      .addColumn('browser_hash', 'text', notNull)
      .addColumn('return_to', 'text')
      .addColumn('locale', 'text', notNull)
      .addColumn('issue_instant', 'text', notNull)
      .addColumn('expires_at', 'text', notNull)
      .addColumn('consumed_at', 'text')
      .execute();
    await db.schema.createIndex('spid_requests_expires').on('spid_requests').column('expires_at').execute();
    await db.schema
      .createTable('spid_identities')
      .addColumn('tax_code', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().unique().references('accounts.id').onDelete('cascade'))
      .addColumn('idp', 'text', notNull)
      .addColumn('created_at', 'text', notNull)
      .addColumn('last_login_at', 'text', notNull)
      .execute();
    await db.schema.alterTable('sessions').addColumn('acr', 'text').execute();
    // Which SPID login a session came from (a hash of IdP and NameID), for single logout.
    await db.schema.alterTable('sessions').addColumn('federated_sid', 'text').execute();
    await db.schema.createIndex('sessions_federated_sid').on('sessions').column('federated_sid').execute();
  },
  async down(db) {
    await db.schema.dropIndex('sessions_federated_sid').execute();
    await db.schema.alterTable('sessions').dropColumn('federated_sid').execute();
    await db.schema.alterTable('sessions').dropColumn('acr').execute();
    await db.schema.dropTable('spid_identities').execute();
    await db.schema.dropTable('spid_requests').execute();
  },
});
