import type { Command } from 'commander';
import { createContext } from '../app/container.js';
import { AppError } from '../errors/app-error.js';
import { cliError } from './app-error.js';
import { jobNames, runJob } from '../jobs/runner.js';
import { allJobNames } from '../jobs/registry.js';
import { readEnv } from '../config/env.js';
import { loadInstitution } from '../config/load-institution.js';
import type { JobReport } from '../jobs/types.js';

function summary(r: JobReport): string {
  const counts = Object.entries(r.counts);
  const lines = [
    `${r.job}${r.dryRun ? ' (dry run: nothing changed)' : ''}: ${counts.length ? counts.map(([k, v]) => `${k} ${v}`).join(', ') : 'nothing to do'}`,
    ...r.accounts.slice(0, 20).map((a) => `  ${a.action}\t${a.username}`),
  ];
  const total = counts.reduce((s, [, v]) => s + v, 0);
  if (total > 20) lines.push(`  … and ${total - 20} more (--json for the report)`);
  return `${lines.join('\n')}\n`;
}

/** `tessera jobs run JOB [--dry-run] [--json]` and `tessera jobs list`. */
export function jobsCommand(program: Command): void {
  const jobs = program.command('jobs').description(`lifecycle jobs (${jobNames().join(', ')})`);
  jobs
    .command('list')
    .description('list the jobs, with the reconciliation of each configured provisioning target')
    .action(() => {
      const env = readEnv();
      process.stdout.write(`${allJobNames({ config: loadInstitution(env.TESSERA_CONFIG).config, env }).join('\n')}\n`);
    });
  jobs
    .command('run')
    .description('run a job now (one instance at a time; a dry run changes nothing)')
    .argument('<job>', `${jobNames().join(' | ')} | reconcile-<target> (one per provisioning target)`)
    .option('--dry-run', 'report what the job would do, change nothing')
    .option('--json', 'print the report as JSON (the admin API shape)')
    .action(async (job: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        const tty = process.stderr.isTTY && !opts.json;
        const report = await runJob(ctx, job, {
          dryRun: opts.dryRun === true,
          by: { actor: 'cli' },
          ...(tty ? { progress: (n: number) => process.stderr.write(`\r${job}: ${n} accounts`) } : {}),
        });
        if (tty) process.stderr.write('\n');
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : summary(report));
      } catch (err) {
        throw cliError(err, opts.json, err instanceof AppError && err.code === 'job.unknown' ? ` (jobs: ${jobNames().join(', ')})` : '');
      } finally {
        await ctx.db.close();
      }
    });
}
