import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect } from '../../src/db/connect.js';
import { migrateUp } from '../../src/db/migrate.js';
import { addressKey, recordFailure } from '../../src/auth/throttle.js';
import { runJob } from '../../src/jobs/runner.js';
import { seedStaleRegistrations } from '../../test/helpers/stale-registrations.js';
import type { BenchSection, Figure } from '../lib.js';

const N = Number(process.env.BENCH_PURGE_ROWS ?? 1_000_000);

/**
 * purge-unused over a million stale registrations on SQLite: the total time, and the longest
 * event-loop stall meanwhile, while the server keeps writing (the job runs on its own thread and
 * commits in batches; a server write waits at most for one batch).
 */
export const purgeSection: BenchSection = {
  name: 'purge',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-purge-'));
    const file = join(dir, 'bench.db');
    try {
      const db0 = connect(`sqlite:${file}`);
      await migrateUp(db0);
      await db0.close();
      const seedStart = performance.now();
      seedStaleRegistrations(file, N);
      const seedMs = performance.now() - seedStart;
      const env = readEnv({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, TESSERA_DATA_DIR: dir, TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-01', LOG_LEVEL: 'silent' });
      const ctx = await createContext({ env, config: loadInstitution(undefined).config, db: connect(`sqlite:${file}`), logLevel: 'silent' });
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      // Meanwhile the server keeps working: a failed login is counted every 25 ms (one write
      // transaction, as a login request makes it). A write waits for the job's current batch to
      // commit, and on SQLite that wait holds the event loop: it is part of the stall measured.
      let writes = 0;
      let longestWrite = 0;
      const server = setInterval(() => {
        const w0 = performance.now();
        void ctx.db.kysely
          .transaction()
          .execute((tx) => recordFailure(tx, addressKey(`192.0.2.${writes++ % 250}`), { maxFailures: 1000, windowMs: 60_000, lockMs: 60_000 }, new Date()))
          .then(() => (longestWrite = Math.max(longestWrite, performance.now() - w0)));
      }, 25);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const report = await runJob(ctx, 'purge-unused', { dryRun: false });
      const totalMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(server);
      loop.disable();
      await ctx.db.close();
      const purged = report.counts.purged ?? 0;
      if (purged !== N) throw new Error(`purged ${purged} of ${N}`);
      return [
        { metric: `seed ${N.toLocaleString('en')} stale registrations`, value: seedMs / 1000, unit: 's' },
        { metric: `purge-unused, ${N.toLocaleString('en')} accounts: total time`, value: totalMs / 1000, unit: 's', goal: '≤ 10' },
        { metric: 'purge-unused: CPU time (this process)', value: (cpu.user + cpu.system) / 1e6, unit: 's' },
        { metric: 'purge-unused: accounts per second', value: Math.round(purged / (totalMs / 1000)), unit: '/s' },
        { metric: 'longest event-loop stall during the purge', value: loop.max / 1e6, unit: 'ms', goal: '≤ 50' },
        { metric: 'event-loop delay p99 during the purge', value: loop.percentile(99) / 1e6, unit: 'ms' },
        { metric: `longest login-counter write meanwhile (${writes} writes)`, value: longestWrite, unit: 'ms' },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
