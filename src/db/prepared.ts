import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Stands for the i-th argument while a prepared query is built. */
class Slot {
  constructor(readonly index: number) {}
  /** Computing on an argument (`version + 1`) would bake a wrong constant into the SQL. */
  [Symbol.toPrimitive](): never {
    throw new Error('prepared query: an argument may only be used as a value; pass what is computed from it as an argument of its own');
  }
}

/**
 * A query of fixed shape, built and compiled with Kysely once per database dialect and then run
 * with new values. Building and compiling a query costs more than SQLite spends running an indexed
 * one, and the hot paths (flows, one-time codes, the audit log) run the same few shapes all day.
 *
 * `build` receives a stand-in for each argument and must use each as one plain value (a `where`
 * operand, an inserted or updated column): the SQL may not depend on the values, so no optional
 * columns, no lists of values, no branching on an argument.
 */
export function preparedQuery<A extends unknown[], R>(build: (db: Kysely<Database>, ...args: A) => Compilable<R>) {
  // Keyed by the dialect adapter, which a Kysely instance shares with its transactions.
  const templates = new WeakMap<object, CompiledQuery<R>>();
  const compiled = (db: Kysely<Database>, args: A): CompiledQuery<R> => {
    const executor = db.getExecutor();
    // Plugins may rewrite a query or its results per run: build it every time then.
    if (executor.plugins.length > 0) return build(db, ...args).compile();
    let template = templates.get(executor.adapter);
    if (!template) {
      template = build(db, ...(args.map((_, i) => new Slot(i)) as A)).compile();
      const used = new Set(template.parameters.filter((p) => p instanceof Slot).map((p) => p.index));
      if (used.size !== args.length) throw new Error(`prepared query uses ${used.size} of its ${args.length} arguments as values: ${template.sql}`);
      templates.set(executor.adapter, template);
    }
    const parameters = template.parameters.map((p) => {
      if (!(p instanceof Slot)) return p;
      const v = args[p.index];
      // Kysely leaves out an undefined column or condition; a prepared query cannot.
      if (v === undefined) throw new Error(`prepared query: argument ${p.index} is undefined: ${template!.sql}`);
      return v;
    });
    return { ...template, parameters };
  };
  return {
    /** All rows. */
    async all(db: Kysely<Database>, ...args: A): Promise<R[]> {
      return (await db.executeQuery(compiled(db, args))).rows;
    },
    /** The first row, if any. */
    async first(db: Kysely<Database>, ...args: A): Promise<R | undefined> {
      return (await db.executeQuery(compiled(db, args))).rows[0];
    },
    /** Runs an insert, update or delete; returns how many rows it changed. */
    async run(db: Kysely<Database>, ...args: A): Promise<number> {
      return Number((await db.executeQuery(compiled(db, args))).numAffectedRows ?? 0);
    },
  };
}
