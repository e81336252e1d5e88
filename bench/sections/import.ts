import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { bulkInsert } from '../../src/db/bulk-insert.js';
import { connect } from '../../src/db/connect.js';
import { timeOrderedId } from '../../src/db/ids.js';
import { migrateUp } from '../../src/db/migrate.js';
import { codiceFiscaleCheckChar } from '../../src/domain/codice-fiscale.js';
import { nameKeyColumns } from '../../src/domain/name-key.js';
import { importPeople } from '../../src/imports/pipeline.js';
import { readCsv } from '../../src/imports/readers.js';
import type { Insertable } from 'kysely';
import type { PersonTable } from '../../src/db/schema.js';
import { cpuMs, type BenchSection, type Figure } from '../lib.js';

export const rows = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const given = ['Giulia', 'Luca', 'Sofia', 'Marco', 'Eleni', 'Anna', 'Paolo', 'Chiara', 'Nikos', 'Francesca'];
const family = ['Rossi', 'Bianchi', 'Esposito', 'Romano', 'Ricci', 'Papadopoulou', 'Conti', 'Greco', 'Gallo', 'Marino'];
const months = 'ABCDEHLMPRST';

/** One generated student, already in normalised form (so the raw insert stores the same values). */
function student(i: number) {
  const externalId = String(50_000_000 + i);
  const yy = String(95 + (i % 10)).slice(-2);
  const day = String(1 + (i % 28)).padStart(2, '0');
  const first15 = `RSSMRA${yy}${months[i % 12]}${day}H501`;
  return {
    externalId,
    givenName: given[i % 10]!,
    familyName: family[(i * 7) % 10]!,
    birthDate: `19${yy}-${String(1 + (i % 12)).padStart(2, '0')}-${day}`,
    taxCode: first15 + codiceFiscaleCheckChar(first15),
    mobile: `+39347${String(1_000_000 + i).padStart(7, '0')}`,
    personalEmail: `s${externalId}@example.org`,
    status: i % 20 === 0 ? 'provisional' : 'enrolled',
  };
}

export async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  out.write('externalId,givenName,familyName,birthDate,taxCode,mobile,personalEmail,status\n');
  for (let i = 0; i < rows; i++) {
    const s = student(i);
    if (!out.write(`${s.externalId},${s.givenName},${s.familyName},${s.birthDate},${s.taxCode},${s.mobile},${s.personalEmail},${s.status}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * The floor: the same rows (same id scheme, same multi-row statements) inserted straight into
 * persons, 500 per transaction.
 */
async function rawInsert(url: string): Promise<number> {
  const db = connect(url);
  await migrateUp(db);
  const now = new Date().toISOString();
  const ms = await cpuMs(async () => {
    for (let i = 0; i < rows; i += 500) {
      const batch: Array<Insertable<PersonTable>> = [];
      for (let j = i; j < Math.min(rows, i + 500); j++) {
        const s = student(j);
        batch.push({
          id: timeOrderedId(), population: 'student', external_id: s.externalId, given_name: s.givenName, family_name: s.familyName,
          ...nameKeyColumns(s.givenName, s.familyName),
          birth_date: s.birthDate, tax_code: s.taxCode, amka: null, insurance_country: null, insurance_number: null, mobile: s.mobile,
          personal_email: s.personalEmail, personal_email_lower: s.personalEmail, registrar_status: s.status, org_unit: null, role: null,
          contract_type: null, entitlements: '[]', extra: '{}', source_hash: 'raw', created_at: now, updated_at: now,
        });
      }
      const columns = Object.keys(batch[0]!) as Array<keyof PersonTable & string>;
      await db.kysely.transaction().execute((tx) =>
        bulkInsert(tx, db.dialect, 'persons', columns, batch.map((r) => columns.map((c) => r[c] as string | null))),
      );
    }
  });
  await db.close();
  return ms;
}

/**
 * Imports 100,000 generated students from a CSV file into a fresh SQLite file, and compares the
 * CPU time with a raw batched insert of the same rows into persons in the same run. The import
 * also validates every field, hashes rows, creates accounts and writes an audit entry per person.
 */
export const importSection: BenchSection = {
  name: 'import',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-import-'));
    try {
      const file = join(dir, 'students.csv');
      await writeCsv(file);
      // The floor is measured before and after the import and averaged: the machine's speed drifts
      // over a run, and a floor taken on one side only would compare the import with another machine.
      const rawBefore = await rawInsert(`sqlite:${join(dir, 'raw-before.db')}`);

      const db = connect(`sqlite:${join(dir, 'import.db')}`);
      const config = structuredClone(loadInstitution(undefined).config);
      const env = readEnv({ NODE_ENV: 'test', TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret', LOG_LEVEL: 'silent', TESSERA_DATA_DIR: dir });
      const ctx = await createContext({ env, config, db, logLevel: 'silent' });
      let report: Awaited<ReturnType<typeof importPeople>> | undefined;
      const wallStart = process.hrtime.bigint();
      const importMs = await cpuMs(async () => {
        report = await importPeople(ctx, readCsv(createReadStream(file)), { dryRun: false, who: 'bench', population: 'student' });
      });
      const wallS = Number(process.hrtime.bigint() - wallStart) / 1e9;
      const unchangedStart = process.hrtime.bigint();
      const again = await importPeople(ctx, readCsv(createReadStream(file)), { dryRun: false, who: 'bench', population: 'student' });
      const unchangedS = Number(process.hrtime.bigint() - unchangedStart) / 1e9;
      await db.close();
      const rawAfter = await rawInsert(`sqlite:${join(dir, 'raw-after.db')}`);
      const rawMs = (rawBefore + rawAfter) / 2;
      if (report?.created !== rows || report.rejected.length > 0) throw new Error(`import bench: unexpected report ${JSON.stringify({ ...report, rejected: report?.rejected.slice(0, 3) })}`);
      if (again.unchanged !== rows) throw new Error('import bench: the re-import was not unchanged');
      return [
        { metric: 'import: 100k students, CSV to SQLite (rows/s, wall)', value: Math.round(rows / wallS), unit: 'rows/s' },
        { metric: 'import: CPU per 1,000 rows', value: (importMs / rows) * 1000, unit: 'ms' },
        { metric: 'raw batched insert into persons: CPU per 1,000 rows (mean of before and after)', value: (rawMs / rows) * 1000, unit: 'ms' },
        { metric: 'raw batched insert, before / after the import (drift)', value: rawBefore / rawAfter, unit: 'ratio' },
        { metric: 'import throughput / raw insert throughput (CPU)', value: rawMs / importMs, unit: 'ratio', goal: '≥ 0.25' },
        { metric: 're-import of the same file, all unchanged (rows/s, wall)', value: Math.round(rows / unchangedS), unit: 'rows/s' },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
