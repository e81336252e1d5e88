import { Migrator, sql, type Migration, type MigrationResultSet } from 'kysely';
import type { Db } from './connect.js';
import { foundation } from './migrations/0001-foundation.js';
import { codes } from './migrations/0002-codes.js';
import { mailboxes } from './migrations/0008-mailboxes.js';
import { oidc } from './migrations/0006-oidc.js';
import { registration } from './migrations/0005-registration.js';
import { activationPin } from './migrations/0004-activation-pin.js';
import { spid } from './migrations/0007-spid.js';
import { provisioning } from './migrations/0009-provisioning.js';
import { oidcClients } from './migrations/0010-oidc-clients.js';
import { personsAmka } from './migrations/0011-persons-amka.js';
import { accountLocale } from './migrations/0012-account-locale.js';
import { oidcKeyActivation } from './migrations/0013-oidc-key-activation.js';
import { spidRequestLanguage } from './migrations/0014-spid-request-language.js';
import { retentionIndexes } from './migrations/0015-retention-indexes.js';
import { purgedRecords } from './migrations/0016-purged-records.js';
import { personNameKeys } from './migrations/0017-person-name-keys.js';
import type { PortableMigration } from './migrations/helpers.js';

/** Every migration, in order. Add new ones at the end; never edit one that has shipped. */
const migrations: Array<[string, PortableMigration]> = [
  ['0001-foundation', foundation],
  ['0002-codes', codes],
  ['0004-activation-pin', activationPin],
  ['0005-registration', registration],
  ['0006-oidc', oidc],
  ['0007-spid', spid],
  ['0008-mailboxes', mailboxes],
  ['0009-provisioning', provisioning],
  ['0010-oidc-clients', oidcClients],
  ['0011-persons-amka', personsAmka],
  ['0012-account-locale', accountLocale],
  ['0013-oidc-key-activation', oidcKeyActivation],
  ['0014-spid-request-language', spidRequestLanguage],
  ['0015-retention-indexes', retentionIndexes],
  ['0016-purged-records', purgedRecords],
  ['0017-person-name-keys', personNameKeys],
];

/**
 * PostgreSQL: the migration tables are named with the connection's current schema. Kysely looks
 * for them among the tables of every schema, so without it a database holding several Tessera
 * schemas (test runs side by side) finds another schema's table and never creates its own.
 */
async function migrationSchema(db: Db): Promise<string | undefined> {
  if (db.dialect !== 'postgres') return undefined;
  const r = await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db.kysely);
  return r.rows[0]?.s;
}

async function migrator(db: Db): Promise<Migrator> {
  const schema = await migrationSchema(db);
  return new Migrator({
    db: db.kysely,
    // The migrator looks for its own tables by name: scoped to the schema in use, so that another
    // schema of the same database (parallel test runs) is never mistaken for this one.
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: {
      async getMigrations() {
        const out: Record<string, Migration> = {};
        for (const [name, m] of migrations) out[name] = m(db.dialect);
        return out;
      },
    },
  });
}

function check(result: MigrationResultSet): void {
  if (result.error) throw result.error instanceof Error ? result.error : new Error(String(result.error));
}

export async function migrateUp(db: Db): Promise<string[]> {
  const res = await (await migrator(db)).migrateToLatest();
  check(res);
  return (res.results ?? []).map((r) => r.migrationName);
}

export async function migrateDown(db: Db, steps = migrations.length): Promise<string[]> {
  const m = await migrator(db);
  const done: string[] = [];
  for (let i = 0; i < steps; i++) {
    const res = await m.migrateDown();
    check(res);
    if (!res.results?.length) break;
    done.push(...res.results.map((r) => r.migrationName));
  }
  return done;
}

/** True when every known migration has been applied (used by /readyz). */
export async function migrationsApplied(db: Db): Promise<boolean> {
  const list = await (await migrator(db)).getMigrations();
  return list.every((m) => m.executedAt !== undefined);
}
