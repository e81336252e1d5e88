import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Dialect } from './connect.js';

/**
 * Inserts many rows of one table with multi-row statements written directly (no query builder per
 * row): the importer writes hundreds of thousands of rows, and building and compiling a query tree
 * for each cell costs more than SQLite spends storing it. Values must be strings, numbers or null;
 * `columns` come from code, never from input. Rows go in statements of at most `perStatement`.
 */
export async function bulkInsert<T extends keyof Database & string>(
  db: Kysely<Database>,
  dialect: Dialect,
  table: T,
  columns: ReadonlyArray<keyof Database[T] & string>,
  rows: ReadonlyArray<ReadonlyArray<string | number | null>>,
  perStatement = 400,
): Promise<void> {
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const params: Array<string | number | null> = [];
    const groups: string[] = [];
    for (const row of chunk) {
      if (row.length !== columns.length) throw new Error(`bulkInsert ${table}: ${row.length} values for ${columns.length} columns`);
      const marks: string[] = [];
      for (const v of row) {
        params.push(v);
        marks.push(dialect === 'postgres' ? `$${params.length}` : '?');
      }
      groups.push(`(${marks.join(', ')})`);
    }
    await db.executeQuery(CompiledQuery.raw(head + groups.join(', '), params));
  }
}
