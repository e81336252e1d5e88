import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse';

/** The record formats an import accepts. */
export type RecordFormat = 'csv' | 'ndjson';

/** One NDJSON line as read: its values, or why it could not be read. */
export interface NdjsonRow {
  row: number;
  values: Record<string, unknown>;
  errors?: Array<{ field: 'row'; code: 'field.invalid' }>;
}

/**
 * Reads NDJSON (one JSON object per line) from a stream, line by line. Blank lines are skipped and
 * not counted; a byte-order mark is skipped; a line that is not a JSON object is reported as
 * `row: field.invalid`. Shared by the people and the office imports.
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
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) yield { row, values: {}, errors: [{ field: 'row', code: 'field.invalid' }] };
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
