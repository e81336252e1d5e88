import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { createContext } from '../app/container.js';
import { readEnv } from '../config/env.js';
import { populationIds } from '../config/institution-schema.js';
import { connect, sqliteFileOf } from '../db/connect.js';
import { translate } from '../i18n/index.js';
import type { ImportReport } from '../imports/columns.js';
import { importPeople } from '../imports/pipeline.js';
import { cliError } from './app-error.js';
import { formatFromName, importCharset, readRows, type ImportFormat } from '../imports/readers.js';

interface ImportCliOptions {
  population?: string;
  dryRun?: boolean;
  json?: boolean;
  format?: ImportFormat;
  encoding?: string;
}

/** The summary and the first rejected rows, for people reading a terminal or a log. */
function summary(report: ImportReport): string {
  const counts = { created: report.created, updated: report.updated, unchanged: report.unchanged, rejected: report.rejected.length };
  let line = translate('en', report.dryRun ? 'import.summaryDry' : 'import.summary', counts);
  if (report.skippedPurged) line += `, ${translate('en', 'import.summarySkippedPurged', { skippedPurged: report.skippedPurged })}`;
  const lines = [line];
  const shown = report.rejected.slice(0, 50);
  for (const r of shown) {
    lines.push(`  row ${r.row}${r.externalId ? ` (${r.externalId})` : ''}: ${r.errors.map((e) => `${e.field} ${e.code}`).join(', ')}`);
  }
  if (report.rejected.length > shown.length) lines.push(`  … and ${report.rejected.length - shown.length} more rejected rows (--json lists them all)`);
  return `${lines.join('\n')}\n`;
}

/**
 * `tessera import FILE --population student [--dry-run] [--json] [--format csv|ndjson]
 * [--encoding latin1]`: streams the file through the same pipeline as the admin API. A progress bar
 * on a terminal; a summary otherwise; `--json` prints the report as the API answers it. Exits 1
 * when the file cannot be read, its format or encoding is unknown or it is broken (an unclosed
 * quote: the reason and row on stderr, and with `--json` the API's error envelope on stdout) or
 * when every row of the file was rejected, 2 on a bad configuration.
 */
export function importCommand(program: Command): void {
  program
    .command('import')
    .description('import people from the registrar or HR (CSV or NDJSON), creating and updating their accounts')
    .argument('<file>', 'a .csv, .ndjson or .jsonl file')
    .addOption(new Option('--population <population>', 'population of every row (else each row gives it)').choices([...populationIds]))
    .option('--dry-run', 'validate and report without writing anything')
    .option('--json', 'print the report as JSON (the admin API shape)')
    .addOption(new Option('--format <format>', 'file format when the extension does not say').choices(['csv', 'ndjson']))
    .option('--encoding <charset>', 'character set of the file: utf-8 (default), latin1 (iso-8859-1), windows-1252, iso-8859-15, iso-8859-7, windows-1253')
    .action(async (file: string, opts: ImportCliOptions) => {
      const format = opts.format ?? formatFromName(file);
      if (!format) throw new Error(`cannot tell the format of ${basename(file)}: name it .csv, .ndjson or .jsonl, or give --format`);
      const charset = importCharset(opts.encoding);
      if (!charset) throw new Error(translate('en', 'error.import.unsupported_charset', { charset: opts.encoding ?? '' }));
      let size: number;
      try {
        const st = statSync(file);
        if (!st.isFile()) throw new Error('not a file');
        size = st.size;
      } catch (err) {
        throw new Error(`cannot read ${file}: ${err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      // A dry run changes nothing, and that includes not creating a database where DATABASE_URL
      // points (opening one creates and migrates it; the path may be mistyped): without one, the
      // file is checked against an empty database in memory.
      const dbFile = opts.dryRun ? sqliteFileOf(readEnv().DATABASE_URL) : null;
      const noDatabase = dbFile !== null && !existsSync(dbFile);
      if (noDatabase) process.stderr.write(`tessera: no database at ${dbFile} yet: the dry run compares the file with an empty one\n`);
      const ctx = await createContext({ logLevel: 'warn', ...(noDatabase ? { db: connect('sqlite::memory:') } : {}) });
      const stream = createReadStream(file);
      let bar =
        process.stdout.isTTY && !opts.json
          ? new cliProgress.SingleBar({ format: 'importing [{bar}] {percentage}% | {rows} rows | {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic)
          : null;
      bar?.start(size, 0, { rows: 0 });
      try {
        const report = await importPeople(ctx, readRows(format, stream, charset), {
          population: opts.population,
          dryRun: opts.dryRun === true,
          who: 'cli',
          onProgress: (rows) => bar?.update(stream.bytesRead, { rows }),
        });
        bar?.update(size);
        bar?.stop();
        bar = null;
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : summary(report));
        // Rows rejected beside rows imported are reported, and the import did its work: exit 0.
        // Every row rejected (a wrong --population, a file of another kind) is a failed import.
        const total = report.created + report.updated + report.unchanged + (report.skippedPurged ?? 0) + report.rejected.length;
        if (total > 0 && report.rejected.length === total) {
          process.stderr.write(`tessera: every row of ${basename(file)} was rejected; nothing was imported\n`);
          process.exitCode = 1;
        }
      } catch (err) {
        // The same detail as the admin API: the reason with its row, and the code.
        bar?.stop();
        bar = null;
        throw cliError(err, opts.json);
      } finally {
        bar?.stop();
        stream.destroy();
        await ctx.db.close();
      }
    });
}
