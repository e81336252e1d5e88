import type { PortableMigration } from './helpers.js';

/**
 * Ended sessions and one-time codes are swept by when they ended (app/retention.ts): indexes on
 * their end, so that the sweep reads only what it removes, not the whole table every time.
 */
export const retentionIndexes: PortableMigration = () => ({
  async up(db) {
    await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
    await db.schema.createIndex('otc_expires').on('one_time_codes').column('expires_at').execute();
  },
  async down(db) {
    await db.schema.dropIndex('otc_expires').execute();
    await db.schema.dropIndex('sessions_expires').execute();
  },
});
