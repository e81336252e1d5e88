import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';

/** The record formats an import accepts. */
export type RecordFormat = 'csv' | 'ndjson';

/** One data row: its values by column (CSV header name or NDJSON key), or why it could not be read. */
export type RecordRow =
  | { row: number; ok: true; values: Record<string, string | null> }
  | { row: number; ok: false; code: 'field.invalid' };

/** The format of a request's content type, or null when it is neither CSV nor NDJSON. */
export function recordFormatOf(contentType: string | undefined): RecordFormat | null {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'text/csv') return 'csv';
  if (t === 'application/x-ndjson' || t === 'application/ndjson' || t === 'application/jsonl') return 'ndjson';
  return null;
}

function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(' ');
  return JSON.stringify(v);
}

/**
 * Reads CSV (a header row, then data; UTF-8, BOM allowed) or NDJSON (one JSON object per line)
 * from a stream, one row at a time, so files of any length are never held whole in memory.
 * Rows are numbered from 1 (the first data row). A row that cannot be read (bad JSON, not an
 * object, a CSV row with another number of cells than the header) comes back with `field.invalid`
 * and reading goes on. A CSV file that cannot be parsed at all throws.
 */
export async function* readRecords(input: Readable, format: RecordFormat): AsyncGenerator<RecordRow> {
  let row = 0;
  if (format === 'ndjson') {
    const lines = createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      row += 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        yield { row, ok: false, code: 'field.invalid' };
        continue;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        yield { row, ok: false, code: 'field.invalid' };
        continue;
      }
      const values: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(parsed)) values[k] = cell(v);
      yield { row, ok: true, values };
    }
    return;
  }
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: false }));
  let header: string[] | null = null;
  for await (const cells of parser as AsyncIterable<string[]>) {
    if (!header) {
      header = cells.map((c) => c.trim());
      continue;
    }
    row += 1;
    if (cells.length !== header.length) {
      yield { row, ok: false, code: 'field.invalid' };
      continue;
    }
    const values: Record<string, string | null> = {};
    header.forEach((h, i) => (values[h] = cell(cells[i])));
    yield { row, ok: true, values };
  }
}
