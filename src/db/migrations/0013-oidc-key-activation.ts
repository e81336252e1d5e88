import type { PortableMigration } from './helpers.js';

/**
 * When a signing key starts to sign (null: from its creation). A rotation publishes the new keys
 * first and lets them sign only once every instance has had time to publish them too, so that a
 * service fetching the key set from any instance can verify tokens signed by any other.
 */
export const oidcKeyActivation: PortableMigration = () => ({
  async up(db) {
    await db.schema.alterTable('oidc_keys').addColumn('signs_from', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('oidc_keys').dropColumn('signs_from').execute();
  },
});
