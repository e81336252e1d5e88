import { notNull, type PortableMigration } from './helpers.js';

/**
 * OpenID Connect provider storage.
 * - oidc_payloads: every model of the provider (sessions, interactions, grants, codes, tokens) in
 *   one table, keyed by (model, id); the columns beside `payload` exist only to be searched.
 * - oidc_keys: signing keys, encrypted with a key derived from TESSERA_SECRET.
 * - oidc_services: campus services registered through the administration API (the ones in the
 *   institution's file are not copied here).
 */
export const oidc: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('oidc_payloads')
      .addColumn('model', 'text', notNull)
      .addColumn('id', 'text', notNull)
      .addColumn('payload', 'text', notNull)
      .addColumn('grant_id', 'text')
      .addColumn('user_code', 'text')
      .addColumn('uid', 'text')
      .addColumn('account_id', 'text')
      .addColumn('expires_at', 'text')
      .addColumn('consumed_at', 'text')
      .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'id'])
      .execute();
    await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').columns(['grant_id']).execute();
    await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').columns(['model', 'uid']).execute();
    await db.schema.createIndex('oidc_payloads_user_code').on('oidc_payloads').columns(['model', 'user_code']).execute();
    await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').columns(['account_id']).execute();
    await db.schema.createIndex('oidc_payloads_expires').on('oidc_payloads').columns(['expires_at']).execute();

    await db.schema
      .createTable('oidc_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', notNull)
      .addColumn('sealed_jwk', 'text', notNull)
      .addColumn('created_at', 'text', notNull)
      .addColumn('retired_at', 'text')
      .execute();

    await db.schema
      .createTable('oidc_services')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', notNull)
      .addColumn('metadata', 'text', notNull)
      .addColumn('sealed_secret', 'text')
      .addColumn('created_at', 'text', notNull)
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('oidc_services').execute();
    await db.schema.dropTable('oidc_keys').execute();
    await db.schema.dropTable('oidc_payloads').execute();
  },
});
