import type { PortableMigration } from './helpers.js';

/**
 * The language a person last chose on Tessera (it, en, el): the emails sent to them by others'
 * actions (an IT referent's notice of a new request, a reminder, a resent activation link) go out
 * in it rather than in the institution's default language. Null until they choose one.
 */
export const accountLocale: PortableMigration = () => ({
  async up(db) {
    await db.schema.alterTable('accounts').addColumn('locale', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('accounts').dropColumn('locale').execute();
  },
});
