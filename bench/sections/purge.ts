import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect, SQLite, sqlitePragmas } from '../../src/db/connect.js';
import { migrateUp } from '../../src/db/migrate.js';
import { addressKey, reserveAttempt } from '../../src/auth/throttle.js';
import { runJob } from '../../src/jobs/runner.js';
import { seedStaleRegistrations } from '../../test/helpers/stale-registrations.js';
import { cpuMs, type BenchSection, type Figure } from '../lib.js';

const N = Number(process.env.BENCH_PURGE_ROWS ?? 1_000_000);

/**
 * The floor: the three changes a purge must make for each account, and nothing else, as raw SQL
 * on a freshly seeded file with the settings of Tessera's connections (`sqlitePragmas`): one
 * audit entry, the account turned into a tombstone, the person deleted; accounts taken by id
 * range, 1,000 per transaction. No selection, no lifecycle rules, no other table.
 */
async function rawPurgeMs(dir: string): Promise<number> {
  const file = join(dir, 'floor.db');
  const db0 = connect(`sqlite:${file}`);
  await migrateUp(db0);
  await db0.close();
  seedStaleRegistrations(file, N);
  const db = new SQLite(file);
  try {
    for (const p of sqlitePragmas) db.pragma(p);
    const ids = db.prepare('SELECT id, person_id FROM accounts ORDER BY id').all() as Array<{ id: string; person_id: string }>;
    const audit = db.prepare(
      `INSERT INTO audit_log (at, actor, action, account_id, person_id, ip, correlation_id, details)
       SELECT ?, 'job:purge-unused', 'account.status_changed', id, person_id, NULL, NULL, '{"from":"active","to":"purged","reason":"registration.unused"}'
       FROM accounts WHERE id BETWEEN ? AND ?`,
    );
    const tombstone = db.prepare(
      `UPDATE accounts SET status = 'purged', username = 'purged-' || id, username_lower = 'purged-' || lower(id), email = NULL, email_lower = NULL,
       password_hash = NULL, person_id = NULL, roles = '[]', updated_at = ?, version = version + 1 WHERE id BETWEEN ? AND ?`,
    );
    const forget = db.prepare('DELETE FROM persons WHERE id BETWEEN ? AND ?');
    const batch = db.transaction((from: number, to: number) => {
      const at = new Date().toISOString();
      audit.run(at, ids[from]!.id, ids[to]!.id);
      tombstone.run(at, ids[from]!.id, ids[to]!.id);
      forget.run(ids[from]!.person_id, ids[to]!.person_id);
    });
    return await cpuMs(async () => {
      for (let i = 0; i < ids.length; i += 1000) batch.immediate(i, Math.min(ids.length, i + 1000) - 1);
    });
  } finally {
    db.close();
  }
}

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
      // Meanwhile the server keeps working: a login attempt is counted every 25 ms (one write
      // transaction, as a login request makes it). A write waits for the job's current batch to
      // commit, and on SQLite that wait holds the event loop: it is part of the stall measured.
      let writes = 0;
      let longestWrite = 0;
      const server = setInterval(() => {
        const w0 = performance.now();
        void reserveAttempt(ctx.db.kysely, [[addressKey(`192.0.2.${writes++ % 250}`), { maxFailures: 1000, windowMs: 60_000, lockMs: 60_000 }]], new Date())
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
      const jobCpuMs = (cpu.user + cpu.system) / 1000;
      const floorMs = await rawPurgeMs(dir);
      return [
        { metric: `seed ${N.toLocaleString('en')} stale registrations`, value: seedMs / 1000, unit: 's' },
        { metric: `purge-unused, ${N.toLocaleString('en')} accounts: total time`, value: totalMs / 1000, unit: 's', goal: '≤ 10' },
        { metric: 'purge-unused: CPU time (this process)', value: jobCpuMs / 1000, unit: 's' },
        { metric: 'raw SQL floor (audit + tombstone + delete, by id range): CPU', value: floorMs / 1000, unit: 's' },
        { metric: 'purge-unused CPU / raw SQL floor CPU', value: jobCpuMs / floorMs, unit: 'ratio' },
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
