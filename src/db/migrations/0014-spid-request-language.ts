import type { PortableMigration } from './helpers.js';

/**
 * The language a person chose or their browser asked for when they went to sign in with SPID
 * (null when the page fell back to a default). The identity provider's answer comes back as a
 * cross-site POST, which carries no language cookie: the request remembers it, and the account
 * keeps it as its language (accounts.locale), as a password login does.
 */
export const spidRequestLanguage: PortableMigration = () => ({
  async up(db) {
    await db.schema.alterTable('spid_requests').addColumn('language', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('spid_requests').dropColumn('language').execute();
  },
});
