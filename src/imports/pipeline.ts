import type { AppContext } from '../app/context.js';
import { lockKeys } from '../db/lock-key.js';
import type { RequestMeta } from '../audit/audit.js';
import type { ImportReport, SourceRow } from './columns.js';
import { conflictsWithStored, missingForNew, sourceHash, validateRecord, withStored } from './record.js';
import { classify, findExisting, findPurged, keyOf, writeBatch, type BatchItem, type Existing, type Outcome } from './store.js';
import { bringsBack } from '../accounts/purged-records.js';

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
 * as the stored ones is `unchanged` and not written. A row that leaves fields out (withStored) is
 * completed from the stored person first, and is also `unchanged` when it would write the stored
 * values; a new person it cannot create (no names) is rejected, and so is a row whose AMKA or
 * birth date contradicts the other one stored. Bad rows, and rows repeating an externalId
 * seen earlier in the file (`field.duplicate`), are reported and skipped. A row of a record Tessera
 * purged after it ended (accounts/purged-records.ts) is skipped (`skippedPurged`) unless its status
 * enrols it again, which creates the person anew. A dry run computes the same report and writes
 * nothing.
 */
export async function importPeople(ctx: AppContext, rows: AsyncIterable<SourceRow>, opts: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { dryRun: opts.dryRun, created: 0, updated: 0, unchanged: 0, rejected: [] };
  let skippedPurged = 0;
  const size = opts.batchSize ?? 500;
  const seen = new Set<string>();
  let batch: BatchItem[] = [];
  let read = 0;
  let lateRejections = false;
  // One date for the whole file: a birth date is in the future against the import's clock.
  const now = ctx.clock.now();

  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    const late: ImportReport['rejected'] = [];
    let skipped = 0;
    const run = async (tx: AppContext['db']['kysely']) => {
      // Another import of the same population (another instance, another administrator) waits
      // until this batch is stored, then finds its people stored instead of creating them again.
      if (!opts.dryRun) await lockKeys(tx, ctx.db.dialect, items.map((i) => `import:${i.record.population}`));
      const existing = await findExisting(tx, items);
      const purged = await findPurged(ctx, tx, items, existing);
      const decided: Array<{ item: BatchItem; existing: Existing | undefined; outcome: Outcome }> = [];
      for (const item of items) {
        const ex = existing.get(keyOf(item.record));
        const marker = ex ? undefined : purged.get(keyOf(item.record));
        if (marker !== undefined) {
          // A record Tessera purged after it ended stays purged until the registrar enrols it again
          // (a status left out or blank says nothing, as for a stored person).
          if (item.record.absent?.includes('status') || !bringsBack(item.record.status)) {
            skipped++;
            continue;
          }
          item.revives = marker;
        }
        if (item.record.absent) {
          // A row that left fields out: a new person needs its names; a stored one keeps the rest.
          const missing = ex ? [] : missingForNew(item.record);
          if (missing.length > 0) {
            late.push({ row: item.row, externalId: item.record.externalId, errors: missing });
            continue;
          }
          if (ex) {
            const completed = withStored(item.record, ex.person);
            const conflicts = conflictsWithStored(item.record, completed);
            if (conflicts.length > 0) {
              late.push({ row: item.row, externalId: item.record.externalId, errors: conflicts });
              continue;
            }
            item.record = completed;
            item.partial = true;
          }
          item.hash = sourceHash(item.record);
        }
        decided.push({ item, existing: ex, outcome: classify(item, ex) });
      }
      if (!opts.dryRun) await writeBatch(ctx, tx, decided, { actor: `import:${opts.who}`, meta: opts.meta, at: ctx.clock.now() });
      return decided;
    };
    const decided = opts.dryRun ? await run(ctx.db.kysely) : await ctx.db.kysely.transaction().execute(run);
    for (const d of decided) report[d.outcome]++;
    skippedPurged += skipped;
    if (late.length > 0) {
      report.rejected.push(...late);
      lateRejections = true;
    }
    opts.onProgress?.(read);
  };

  for await (const src of rows) {
    read++;
    const v = validateRecord(src.values, opts.population, ctx.config, now);
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
    // A partial row is hashed once it is completed from what is stored (flush).
    batch.push({ row: src.row, record: v.record, hash: v.record.absent ? '' : sourceHash(v.record) });
    if (batch.length >= size) await flush();
  }
  await flush();
  // Rows rejected once their batch was read from the database come in file order with the others.
  if (lateRejections) report.rejected.sort((a, b) => a.row - b.row);
  opts.onProgress?.(read);
  // Said only when it happened: an import without purged records answers the report it always did.
  if (skippedPurged > 0) report.skippedPurged = skippedPurged;
  return report;
}
