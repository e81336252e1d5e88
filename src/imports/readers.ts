import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../errors/app-error.js';
import type { RowError, SourceRow } from './columns.js';

export type ImportFormat = 'csv' | 'ndjson';

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

/**
 * Reads NDJSON (one JSON object per line) from a stream, line by line. Blank lines are skipped and
 * not counted; a line that is not a JSON object is reported as `row: field.invalid`.
 */
export async function* readNdjson(input: Readable): AsyncGenerator<SourceRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let row = 0;
  for await (const raw of lines) {
    const line = row === 0 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line.trim() === '') continue;
    row++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      yield { row, values: {}, errors: [{ field: 'row', code: 'field.invalid' }] };
    } else {
      yield { row, values: parsed as Record<string, unknown> };
    }
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
