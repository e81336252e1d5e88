import type { AppContext } from '../app/context.js';
import type { RequestMeta } from '../audit/audit.js';
import type { ImportReport, SourceRow } from './columns.js';
import { sourceHash, validateRecord } from './record.js';
import { classify, findExisting, keyOf, writeBatch, type BatchItem } from './store.js';

export interface ImportOptions {
  /** The population of every row, unless the rows say it themselves. */
  population?: string | undefined;
  dryRun: boolean;
  /** Who imports, written to the audit log as `import:<who>`. */
  who: string;
  meta?: RequestMeta | undefined;
  /** Rows per transaction. */
  batchSize?: number;
  /** Called after each batch with the number of rows read so far. */
  onProgress?: (rows: number) => void;
}

/**
 * Imports registrar records from `rows` (a stream: the file is never held whole) and returns the
 * report of API.md. Valid rows are upserted by (population, externalId) in batches, each batch one
 * transaction, so a row is written whole or not at all; a row whose normalised values hash the same
 * as the stored ones is `unchanged` and not written. Bad rows, and rows repeating an externalId
 * seen earlier in the file (`field.duplicate`), are reported and skipped. A dry run computes the
 * same report and writes nothing.
 */
export async function importPeople(ctx: AppContext, rows: AsyncIterable<SourceRow>, opts: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { dryRun: opts.dryRun, created: 0, updated: 0, unchanged: 0, rejected: [] };
  const size = opts.batchSize ?? 500;
  const seen = new Set<string>();
  let batch: BatchItem[] = [];
  let read = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    const run = async (tx: AppContext['db']['kysely']) => {
      const existing = await findExisting(tx, items);
      const decided = items.map((item) => {
        const ex = existing.get(keyOf(item.record));
        return { item, existing: ex, outcome: classify(item, ex) };
      });
      if (!opts.dryRun) await writeBatch(ctx, tx, decided, { actor: `import:${opts.who}`, meta: opts.meta, at: ctx.clock.now() });
      return decided;
    };
    const decided = opts.dryRun ? await run(ctx.db.kysely) : await ctx.db.kysely.transaction().execute(run);
    for (const d of decided) report[d.outcome]++;
    opts.onProgress?.(read);
  };

  for await (const src of rows) {
    read++;
    const v = validateRecord(src.values, opts.population, ctx.config);
    const errors = [...(src.errors ?? []), ...(v.ok ? [] : v.errors)];
    const externalId = v.ok ? v.record.externalId : v.externalId;
    if (v.ok || !errors.some((e) => e.field === 'externalId' || e.field === 'population')) {
      // The first occurrence of an id keeps it, whether or not the row was otherwise good.
      const key = v.ok ? keyOf(v.record) : null;
      if (key !== null) {
        if (seen.has(key)) errors.push({ field: 'externalId', code: 'field.duplicate' });
        else seen.add(key);
      } else if (externalId !== null && opts.population) {
        const k = `${opts.population}\u0000${externalId}`;
        if (seen.has(k)) errors.push({ field: 'externalId', code: 'field.duplicate' });
        else seen.add(k);
      }
    }
    if (!v.ok || errors.length > 0) {
      report.rejected.push({ row: src.row, externalId, errors });
      continue;
    }
    batch.push({ row: src.row, record: v.record, hash: sourceHash(v.record) });
    if (batch.length >= size) await flush();
  }
  await flush();
  opts.onProgress?.(read);
  return report;
}
