import { SQLite } from '../../src/db/connect.js';
import { nameKeyColumns } from '../../src/domain/name-key.js';

/**
 * Puts `n` external registrations that were made on `createdAt` and never used straight into a
 * migrated SQLite file (prepared statements in one transaction: a million rows in seconds), for
 * the purge crash test and the purge benchmark. Ids are zero-padded so their order is stable.
 */
export function seedStaleRegistrations(file: string, n: number, createdAt = '2024-03-01T10:00:00.000Z'): void {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const person = db.prepare(
    `INSERT INTO persons (id, population, external_id, given_name, family_name, name_key_family_first, name_key_given_first, birth_date, mobile, personal_email, personal_email_lower, registrar_status, entitlements, extra, source_hash, created_at, updated_at)
     VALUES (?, 'external', ?, 'Anna', 'Rossi', ?, ?, '1990-01-01', '+393331234567', ?, ?, 'active', '[]', '{}', 'registration', ?, ?)`,
  );
  const keys = nameKeyColumns('Anna', 'Rossi');
  const account = db.prepare(
    `INSERT INTO accounts (id, person_id, username, username_lower, email, email_lower, status, password_hash, password_changed_at, federated_only, roles, created_at, updated_at, version)
     VALUES (?, ?, ?, ?, ?, ?, 'active', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', ?, 0, '[]', ?, ?, 1)`,
  );
  const insert = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const k = String(i).padStart(8, '0');
      const email = `user${k}@example.org`;
      person.run(`p-${k}`, `ext-${k}`, keys.name_key_family_first, keys.name_key_given_first, email, email, createdAt, createdAt);
      account.run(`a-${k}`, `p-${k}`, `user${k}`, `user${k}`, email, email, createdAt, createdAt, createdAt);
    }
  });
  for (let i = 0; i < n; i += 100_000) insert(i, Math.min(n, i + 100_000));
  db.close();
}
