import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely, Migration } from 'kysely';
import type { Dialect } from '../connect.js';

/** A migration that may differ by dialect; one folder of these serves SQLite and PostgreSQL. */
export type PortableMigration = (dialect: Dialect) => Migration;

/** An auto-incrementing integer primary key in both dialects. */
export function serialId<T extends string>(t: CreateTableBuilder<T, never>, dialect: Dialect, name = 'id') {
  return dialect === 'postgres'
    ? t.addColumn(name, 'bigserial', (c) => c.primaryKey())
    : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}

export const notNull = (c: ColumnDefinitionBuilder) => c.notNull();
export type AnyDb = Kysely<any>;
