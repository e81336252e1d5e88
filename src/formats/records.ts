import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse';
import { AppError } from '../errors/app-error.js';

/** The record formats an import accepts. */
export type RecordFormat = 'csv' | 'ndjson';

/**
 * The first column a CSV header names twice (names compared as columns are matched: spaces around
 * them aside, case kept — `Mobile` is another, unknown, column), or null. Unnamed columns may repeat.
 */
export function repeatedColumn(header: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') continue;
    if (seen.has(h)) return h;
    seen.add(h);
  }
  return null;
}

/**
 * A header naming a column twice refuses the whole file, before any row is read: which of the two
 * values a row meant cannot be told (400 `import.duplicate_column`, the column named in `params`
 * and in `fields` as `field.duplicate`, as an unknown column is named in a row's errors).
 */
export const duplicateColumn = (column: string): AppError =>
  new AppError('import.duplicate_column', { params: { column: column.slice(0, 100) }, fields: { [column.slice(0, 100)]: 'field.duplicate' } });

/** One NDJSON line as read: its values, or why it could not be read. */
export interface NdjsonRow {
  row: number;
  values: Record<string, unknown>;
  errors?: Array<{ field: string; code: 'field.invalid' | 'field.duplicate' }>;
}

/**
 * The first key a JSON object's text names twice at its top level (compared as JSON.parse reads
 * them, escapes resolved), or null. JSON.parse keeps the last value of a repeated key without a
 * word; `text` must already parse.
 */
export function repeatedKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r' || text[k] === '\n')) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) depth++;
    else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) depth--;
  }
  return null;
}

/**
 * Reads NDJSON (one JSON object per line) from a stream, line by line. Blank lines are skipped and
 * not counted; a byte-order mark is skipped; a line that is not a JSON object is reported as
 * `row: field.invalid`, one naming a key twice as `<key>: field.duplicate` (repeatedKey). Shared by
 * the people and the office imports.
 */
export async function* readNdjson(input: Readable): AsyncGenerator<NdjsonRow> {
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
      continue;
    }
    // A key given twice: which value the line meant cannot be told (JSON.parse would keep the
    // last one silently). The line is refused, naming the key; the other lines are read on.
    const repeated = repeatedKey(line);
    if (repeated !== null) yield { row, values: parsed as Record<string, unknown>, errors: [{ field: repeated, code: 'field.duplicate' }] };
    else yield { row, values: parsed as Record<string, unknown> };
  }
}

/** One data row: its values by column (CSV header name or NDJSON key), or why it could not be read. */
export type RecordRow =
  | { row: number; ok: true; values: Record<string, string | null>; invalid?: string[] }
  | { row: number; ok: false; code: 'field.invalid' };

/** The media types an import accepts, and the format each means. */
export const recordMediaTypes: Readonly<Record<string, RecordFormat>> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
};

/**
 * In `scope` (an import route's own plugin), every request body is handed to the route as a
 * stream, read row by row; the route judges its type with recordFormatOf. So a JSON body, or any
 * other, answers 415 like every type that is not CSV or NDJSON, not 400 for failing to parse.
 */
export function bodiesAsStreams(scope: FastifyInstance, opts: { bodyLimit?: number } = {}): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', opts, (_req, payload, done) => done(null, payload));
}

/** The format of a request's content type, or null when it is neither CSV nor NDJSON. */
export function recordFormatOf(contentType: string | undefined): RecordFormat | null {
  return recordMediaTypes[(contentType ?? '').split(';')[0]!.trim().toLowerCase()] ?? null;
}

function cell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  return String(v);
}

/** An NDJSON value that is not text, a finite number or null (an array, an object, true): never read as text. */
const notText = (v: unknown): boolean => v !== null && v !== undefined && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v));

/**
 * Reads CSV (a header row, then data; UTF-8, BOM allowed) or NDJSON (one JSON object per line)
 * from a stream, one row at a time, so files of any length are never held whole in memory.
 * Rows are numbered from 1 (the first data row). A row that cannot be read (bad JSON, not an
 * object, a CSV row with another number of cells than the header) comes back with `field.invalid`
 * and reading goes on (after broken CSV quoting, the parser resumes where it can: an office list
 * is small and fixed by hand, unlike the people import, which stops at broken quoting rather than
 * guess which rows of a registrar's file were lost).
 */
export async function* readRecords(input: Readable, format: RecordFormat): AsyncGenerator<RecordRow> {
  let row = 0;
  if (format === 'ndjson') {
    for await (const r of readNdjson(input)) {
      if (r.errors) {
        yield { row: r.row, ok: false, code: 'field.invalid' };
        continue;
      }
      const entries = Object.entries(r.values);
      const invalid = entries.filter(([, v]) => notText(v)).map(([k]) => k);
      // A value of another type is reported by its key (`invalid`), not stored as its JSON text.
      yield { row: r.row, ok: true, values: Object.fromEntries(entries.map(([k, v]) => [k, notText(v) ? null : cell(v)])), ...(invalid.length > 0 ? { invalid } : {}) };
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
      const repeated = repeatedColumn(header);
      if (repeated !== null) throw duplicateColumn(repeated);
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
