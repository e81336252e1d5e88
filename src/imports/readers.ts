import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../errors/app-error.js';
import { readNdjson, type RecordFormat } from '../formats/records.js';
import type { RowError, SourceRow } from './columns.js';

/** The formats a people import reads (the same as every record import). */
export type ImportFormat = RecordFormat;

/**
 * Reads CSV records one at a time from a stream (never the whole file): the first record is the
 * header; comma or semicolon separated (spreadsheets in Italy and Greece write semicolons); a
 * UTF-8 byte-order mark is skipped. A row with a different number of cells than the header is
 * reported, not guessed at. A broken file (an unclosed quote) throws `import.malformed`.
 */
export async function* readCsv(input: Readable): AsyncGenerator<SourceRow> {
  const parser = input.pipe(
    parse({ bom: true, delimiter: [',', ';'], relax_column_count: true, skip_empty_lines: true, trim: false }),
  );
  input.on('error', (err) => parser.destroy(err));
  let header: string[] | null = null;
  const headerErrors: RowError[] = [];
  let row = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (header === null) {
        header = cells.map((h) => h.trim());
        const seen = new Set<string>();
        for (const h of header) {
          if (h !== '' && seen.has(h)) headerErrors.push({ field: h, code: 'field.duplicate' });
          seen.add(h);
        }
        continue;
      }
      row++;
      const values: Record<string, unknown> = {};
      const errors = [...headerErrors];
      if (cells.length !== header.length) errors.push({ field: 'row', code: 'field.invalid' });
      for (let i = 0; i < header.length && i < cells.length; i++) {
        // Spreadsheets leave unnamed, empty columns after the last one; a value under no name is still reported.
        if (header[i] === '' && cells[i]!.trim() === '') continue;
        values[header[i]!] = cells[i];
      }
      yield errors.length ? { row, values, errors } : { row, values };
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err && typeof err === 'object' && 'code' in err && String(err.code).startsWith('CSV_')) {
      throw new AppError('import.malformed', { params: { row: row + 1 } });
    }
    throw err;
  }
}

export function readRows(format: ImportFormat, input: Readable): AsyncGenerator<SourceRow> {
  return format === 'csv' ? readCsv(input) : readNdjson(input);
}

/** The format a file name implies: .csv, or .ndjson/.jsonl; null otherwise. */
export function formatFromName(name: string): ImportFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return null;
}
