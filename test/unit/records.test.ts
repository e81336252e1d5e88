import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readRecords, recordFormatOf, type RecordFormat, type RecordRow } from '../../src/formats/records.js';

async function all(text: string | string[], format: RecordFormat): Promise<RecordRow[]> {
  const out: RecordRow[] = [];
  for await (const r of readRecords(Readable.from(Array.isArray(text) ? text : [text]), format)) out.push(r);
  return out;
}

describe('CSV and NDJSON records', () => {
  it('reads CSV with a BOM, quotes, CRLF and empty cells, across chunk boundaries', async () => {
    const rows = await all(['\uFEFFcode,name,parent\r\nA1,"Ufficio, ""primo""",\r\n', '\r\nB2,Secon', 'do,A1\r\n'], 'csv');
    assert.deepEqual(rows, [
      { row: 1, ok: true, values: { code: 'A1', name: 'Ufficio, "primo"', parent: null } },
      { row: 2, ok: true, values: { code: 'B2', name: 'Secondo', parent: 'A1' } },
    ]);
  });

  it('reports CSV rows with the wrong number of cells, and broken quoting, and goes on where it can', async () => {
    const rows = await all('code,name\nA,1,extra\nB,2\nC,"unterminated\n', 'csv');
    assert.deepEqual(rows.map((r) => [r.row, r.ok]), [[1, false], [2, true], [3, false]]);
  });

  it('reads NDJSON: blank lines skipped, numbers as text, a value of another type named, bad lines reported', async () => {
    const rows = await all('{"code":"A","n":3,"tags":["x","y"],"none":null}\n\nnot json\n[1,2]\n{"code":" B "}\n', 'ndjson');
    assert.deepEqual(rows, [
      // A list is no office's value: named, never stored as its JSON text.
      { row: 1, ok: true, values: { code: 'A', n: '3', tags: null, none: null }, invalid: ['tags'] },
      { row: 2, ok: false, code: 'field.invalid' },
      { row: 3, ok: false, code: 'field.invalid' },
      { row: 4, ok: true, values: { code: 'B' } },
    ]);
  });

  it('knows its content types', () => {
    assert.equal(recordFormatOf('text/csv; charset=utf-8'), 'csv');
    assert.equal(recordFormatOf('application/x-ndjson'), 'ndjson');
    assert.equal(recordFormatOf('application/json'), null);
    assert.equal(recordFormatOf(undefined), null);
  });
});
