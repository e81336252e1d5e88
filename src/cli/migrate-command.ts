import type { Command } from 'commander';
import { readEnv } from '../config/env.js';
import { connect } from '../db/connect.js';
import { migrateDown, migrateUp } from '../db/migrate.js';

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (DATABASE_URL); --down reverts them')
    .option('--down [steps]', 'revert the last migrations (all when no number is given)')
    .action(async (opts: { down?: string | boolean }) => {
      if (typeof opts.down === 'string' && !/^[1-9]\d*$/.test(opts.down)) throw new Error(`--down takes a positive number of migrations, not "${opts.down}"`);
      const env = readEnv();
      const db = connect(env.DATABASE_URL);
      try {
        if (opts.down !== undefined) {
          const steps = typeof opts.down === 'string' ? Number.parseInt(opts.down, 10) : undefined;
          const done = await migrateDown(db, steps);
          process.stdout.write(done.length ? `reverted: ${done.join(', ')}\n` : 'nothing to revert\n');
        } else {
          const done = await migrateUp(db);
          process.stdout.write(done.length ? `applied: ${done.join(', ')}\n` : 'database is up to date\n');
        }
      } finally {
        await db.close();
      }
    });
}
