import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SQLite } from '../../src/db/connect.js';
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect } from '../../src/db/connect.js';
import { migrateUp } from '../../src/db/migrate.js';
import { runJob } from '../../src/jobs/runner.js';
import { TestClock } from '../../src/ports/clock.js';
import { onPostgres } from '../helpers/app.js';
import { seedStaleRegistrations } from '../helpers/stale-registrations.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const N = 20_000;
const SECRET = 'crash-test-secret-crash-test-secret-0001';

function envFor(dir: string, file: string): Record<string, string> {
  return { ...process.env, NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, TESSERA_DATA_DIR: dir, TESSERA_SECRET: SECRET, LOG_LEVEL: 'silent' } as Record<string, string>;
}

/** Everything the purge decides, without the times it ran at. */
function snapshot(file: string) {
  const db = new SQLite(file, { readonly: true });
  const out = {
    accounts: db.prepare('SELECT id, status, username, email, person_id, password_hash, version FROM accounts ORDER BY id').all(),
    persons: db.prepare('SELECT count(*) AS n FROM persons').get(),
    audit: db.prepare("SELECT account_id, action, actor, details FROM audit_log ORDER BY account_id, details").all(),
  };
  db.close();
  return out;
}

/** Runs the job in this process, a little later than the crash (the dead holder's lease has expired). */
async function runInProcess(dir: string, file: string) {
  const clock = new TestClock(new Date(Date.now() + 120_000));
  const ctx = await createContext({ env: readEnv(envFor(dir, file)), config: loadInstitution(undefined).config, db: connect(`sqlite:${file}`), clock, logLevel: 'silent' });
  try {
    return await runJob(ctx, 'purge-unused', { dryRun: false });
  } finally {
    await ctx.db.close();
  }
}

describe('purge-unused after a crash', { skip: onPostgres ? 'the crash test kills a process holding a SQLite file; the purge itself is tested on PostgreSQL in jobs.test.ts' : false }, () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
    const db = connect(`sqlite:${join(dir, 'a.db')}`);
    await migrateUp(db);
    await db.close();
    seedStaleRegistrations(join(dir, 'a.db'), N);
    copyFileSync(join(dir, 'a.db'), join(dir, 'b.db'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('killed mid-purge and run again, ends exactly where an uninterrupted run ends', async () => {
    const a = join(dir, 'a.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin/tessera.mjs'), 'jobs', 'run', 'purge-unused', '--json'], { cwd: root, env: envFor(dir, a), stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const watch = new SQLite(a, { readonly: true });
    const purged = () => (watch.prepare("SELECT count(*) AS n FROM accounts WHERE status = 'purged'").get() as { n: number }).n;
    let seen = 0;
    for (let i = 0; i < 6000 && seen === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
      seen = purged();
    }
    child.kill('SIGKILL');
    await exited;
    const atKill = purged();
    watch.close();
    assert.ok(atKill > 0 && atKill < N, `killed after ${atKill} of ${N} accounts`);

    const resumed = await runInProcess(dir, a);
    assert.equal(resumed.counts.purged, N - atKill);
    const uninterrupted = await runInProcess(dir, join(dir, 'b.db'));
    assert.equal(uninterrupted.counts.purged, N);
    const sa = snapshot(a);
    const sb = snapshot(join(dir, 'b.db'));
    assert.deepEqual(sa.persons, { n: 0 });
    assert.equal(sa.accounts.length, N);
    assert.equal(sa.audit.length, N);
    assert.deepEqual(sa, sb);
    assert.deepEqual((await runInProcess(dir, a)).counts, {});
  });

  it('the CLI prints the report as JSON, and fails on an unknown job', () => {
    const env = envFor(dir, join(dir, 'b.db'));
    const ok = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin/tessera.mjs'), 'jobs', 'run', 'expire-unverified', '--dry-run', '--json'], { cwd: root, env, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const report = JSON.parse(ok.stdout);
    assert.equal(report.job, 'expire-unverified');
    assert.equal(report.dryRun, true);
    assert.deepEqual(report.counts, {});
    const bad = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin/tessera.mjs'), 'jobs', 'run', 'nope'], { cwd: root, env, encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /job\.unknown/);
  });
});
