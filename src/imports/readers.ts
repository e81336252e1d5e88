import { Transform, type Readable } from 'node:stream';
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

/**
 * Reads the rows of `input` in `format`, its text in `charset` (a name from importCharset; UTF-8
 * when not given). Bytes that are not valid in it become U+FFFD, which validation rejects per field.
 */
export function readRows(format: ImportFormat, input: Readable, charset = 'utf-8'): AsyncGenerator<SourceRow> {
  const text = asUtf8(input, charset);
  return format === 'csv' ? readCsv(text) : readNdjson(text);
}

/** `input`, written in `charset` (a name from importCharset), as UTF-8 text. */
export function asUtf8(input: Readable, charset: string): Readable {
  return charset === 'utf-8' ? input : toUtf8(input, charset);
}

/**
 * The character sets an import may be written in, by the labels a request (`charset=`) or the CLI
 * (`--encoding`) may give: UTF-8, and the single-byte sets registrars' spreadsheets export in Italy
 * and Greece. ISO-8859-1 (latin1) is read as its superset Windows-1252, as browsers do.
 */
const charsetLabels = new Set([
  'utf-8', 'utf8', 'unicode-1-1-utf-8',
  'iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'l1', 'windows-1252', 'cp1252', 'us-ascii', 'ascii',
  'iso-8859-15', 'iso8859-15', 'latin9', 'l9',
  'iso-8859-7', 'iso8859-7', 'greek', 'windows-1253', 'cp1253',
]);

/** The decoder's name of a character set label (case and quotes aside), or null when not supported. */
export function importCharset(label: string | undefined): string | null {
  if (label === undefined) return 'utf-8';
  const l = label.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  if (!charsetLabels.has(l)) return null;
  try {
    return new TextDecoder(l).encoding;
  } catch {
    return null;
  }
}

/**
 * The character set a request declares for an import body (UTF-8 when it declares none), as the
 * decoder names it. One Tessera does not read is refused: 415 `import.unsupported_charset`.
 */
export function requestCharset(contentType: string | undefined): string {
  const declared = charsetOf(contentType);
  const charset = importCharset(declared);
  if (!charset) throw new AppError('import.unsupported_charset', { params: { charset: (declared ?? '').slice(0, 40) } });
  return charset;
}

/** The `charset` parameter of a content type, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*("[^"]*"|[^;\s]*)/i.exec(contentType ?? '');
  return m ? m[1]! : undefined;
}

/** Re-encodes a stream of text in `charset` as UTF-8, chunk by chunk. */
function toUtf8(input: Readable, charset: string): Readable {
  const decoder = new TextDecoder(charset);
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(done) {
      const rest = decoder.decode();
      done(null, rest === '' ? undefined : Buffer.from(rest, 'utf8'));
    },
  });
  input.on('error', (err) => out.destroy(err));
  return input.pipe(out);
}

/** The format a file name implies: .csv, or .ndjson/.jsonl; null otherwise. */
export function formatFromName(name: string): ImportFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return null;
}
