import { sql } from 'kysely';
import type { PortableMigration } from './helpers.js';

/**
 * An index for "is this AMKA already held by someone else?" (PIN activation's national-id step).
 * Partial: most people (Italian students) have none, and their rows cost nothing to insert.
 */
export const personsAmka: PortableMigration = () => ({
  async up(db) {
    await db.schema.createIndex('persons_amka').on('persons').column('amka').where(sql.ref('amka'), 'is not', null).execute();
  },
  async down(db) {
    await db.schema.dropIndex('persons_amka').execute();
  },
});
