import { Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../errors/app-error.js';
import { duplicateColumn, readNdjson, repeatedColumn, type RecordFormat } from '../formats/records.js';
import type { RowError, SourceRow } from './columns.js';

/** The formats a people import reads (the same as every record import). */
export type ImportFormat = RecordFormat;

/**
 * Reads CSV records one at a time from a stream (never the whole file): the first record is the
 * header; one separator per file, told by the header (csvDelimiter: spreadsheets in Italy and Greece
 * write semicolons); a UTF-8 byte-order mark is skipped. A row with a different number of cells than
 * the header is reported, not guessed at; a row of separators only is a blank line, skipped. A broken
 * file (an unclosed quote) throws `import.malformed`; a header naming a column twice throws
 * `import.duplicate_column` before the first row.
 */
export async function* readCsv(input: Readable): AsyncGenerator<SourceRow> {
  let header: string[] | null = null;
  let row = 0;
  try {
    const { head, whole } = await peekHeader(input);
    const parser = whole.pipe(
      parse({ bom: true, delimiter: csvDelimiter(head), relax_column_count: true, skip_empty_lines: true, trim: false }),
    );
    whole.on('error', (err) => parser.destroy(err));
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (header === null) {
        header = cells.map((h) => h.trim());
        const repeated = repeatedColumn(header);
        if (repeated !== null) throw duplicateColumn(repeated);
        continue;
      }
      row++;
      // Spreadsheets export a blank line as separators only (`;;;;`): skipped as an empty line is,
      // without a report entry; its number stays used, so later rows keep theirs.
      if (cells.every((c) => c.trim() === '')) continue;
      const values: Record<string, unknown> = {};
      const errors: RowError[] = [];
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

/** How much of a file its header line is looked for in; a longer header is judged on that much. */
const headerPeekBytes = 64 * 1024;

/** Where the first line of `text` ends (a line break outside quotes), or -1 when it does not in `text`. */
function firstLineEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) return i;
  }
  return -1;
}

/**
 * The separator of a CSV file, told by its header line (the start of `text`): a semicolon when the
 * header has semicolons and no comma outside quotes, a tab when it has tabs and neither, a comma
 * otherwise. Every row is split by that one separator, so a comma in an unquoted value of a
 * semicolon file (an argon2 hash's `m=65536,t=3,p=4`, `Núñez, Jr`) stays in its value.
 */
export function csvDelimiter(text: string): ',' | ';' | '\t' {
  const end = firstLineEnd(text);
  const header = end < 0 ? text : text.slice(0, end);
  const seen = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) seen[ch]++;
  }
  if (seen[','] > 0) return ',';
  if (seen[';'] > 0) return ';';
  return seen['\t'] > 0 ? '\t' : ',';
}

/**
 * The start of `input` up to the end of its header line (or headerPeekBytes, or the whole of a
 * shorter file) as text, and the whole file again as a stream, those bytes first: the separator
 * must be known before the parser reads the first byte.
 */
async function peekHeader(input: Readable): Promise<{ head: string; whole: Readable }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const read: Buffer[] = [];
  let size = 0;
  let head = '';
  let ended = false;
  // Read by hand, not in a for-await loop: leaving that loop would destroy the stream.
  for (;;) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
    read.push(chunk);
    size += chunk.length;
    head = Buffer.concat(read).toString('utf8');
    if (firstLineEnd(head) >= 0 || size >= headerPeekBytes) break;
  }
  async function* again(): AsyncGenerator<Buffer | string> {
    yield* read;
    if (ended) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  return { head, whole: Readable.from(again(), { objectMode: false }) };
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
