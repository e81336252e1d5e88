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
 * and reading goes on (after broken CSV quoting, the parser resumes where it can).
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
  // Malformed records (broken quoting) are skipped by the parser and reported here in file order.
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, skip_records_with_error: true, info: true }));
  const skipped: number[] = [];
  parser.on('skip', (err: { lines?: number }) => skipped.push(err.lines ?? Number.MAX_SAFE_INTEGER));
  let header: string[] | null = null;
  const failuresBefore = function* (line: number): Generator<RecordRow> {
    while (skipped.length > 0 && skipped[0]! <= line) {
      skipped.shift();
      if (!header) continue;
      row += 1;
      yield { row, ok: false, code: 'field.invalid' };
    }
  };
  for await (const { record: cells, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield* failuresBefore(info.lines - 1);
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
  yield* failuresBefore(Number.MAX_SAFE_INTEGER);
}
