import { sql } from 'kysely';
import { notNull, type PortableMigration } from './helpers.js';

/**
 * - oidc_payloads.client_id: the service a grant, code or token belongs to, so that deleting a
 *   service removes everything issued to it (filled in for the rows already stored).
 * - oidc_consents: what a person allowed a service that is not first-party, remembered across
 *   sign-ins (the provider's grants end with the browser session; a consent does not).
 */
export const oidcClients: PortableMigration = (dialect) => ({
  async up(db) {
    await db.schema.alterTable('oidc_payloads').addColumn('client_id', 'text').execute();
    await db.schema.createIndex('oidc_payloads_client').on('oidc_payloads').columns(['client_id']).execute();
    if (dialect === 'postgres') await sql`UPDATE oidc_payloads SET client_id = payload::json->>'clientId'`.execute(db);
    else await sql`UPDATE oidc_payloads SET client_id = json_extract(payload, '$.clientId')`.execute(db);

    await db.schema
      .createTable('oidc_consents')
      .addColumn('account_id', 'text', notNull)
      .addColumn('client_id', 'text', notNull)
      .addColumn('scopes', 'text', notNull)
      .addColumn('claims', 'text', notNull)
      .addColumn('granted_at', 'text', notNull)
      .addPrimaryKeyConstraint('oidc_consents_pk', ['account_id', 'client_id'])
      .execute();
    await db.schema.createIndex('oidc_consents_client').on('oidc_consents').columns(['client_id']).execute();
  },
  async down(db) {
    await db.schema.dropTable('oidc_consents').execute();
    await db.schema.dropIndex('oidc_payloads_client').execute();
    await db.schema.alterTable('oidc_payloads').dropColumn('client_id').execute();
  },
});
