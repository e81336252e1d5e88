import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import { createContext } from '../../src/app/container.js';
import { addressKey, reserveAttempt } from '../../src/auth/throttle.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect } from '../../src/db/connect.js';
import { migrateUp } from '../../src/db/migrate.js';
import { WriteGate } from '../../src/db/write-gate.js';
import { runJob } from '../../src/jobs/runner.js';
import { runsOnOwnThread } from '../../src/jobs/thread.js';
import { TestClock } from '../../src/ports/clock.js';
import { onPostgres } from '../helpers/app.js';
import { seedStaleRegistrations } from '../helpers/stale-registrations.js';

const N = 3000;
const rule = { maxFailures: 1_000_000, windowMs: 3_600_000, lockMs: 60_000 };

/**
 * A worker thread playing the job's side of a write gate: it takes its turn, posts 'held', holds
 * the turn until told to leave (flags[1]) or for `holdMs`, marks that it left (flags[0] = 1) and
 * leaves; then `then` runs with `gate`, `flags` and `parentPort` in scope.
 */
function gateWorker(memory: SharedArrayBuffer, flags: Int32Array, holdMs: number, then: string): Worker {
  return new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     (async () => {
       (await import(workerData.loader)).register();
       const { WriteGate } = await import(workerData.gate);
       const gate = new WriteGate(workerData.memory, 'job');
       const flags = new Int32Array(workerData.flags);
       gate.enter();
       parentPort.postMessage('held');
       Atomics.wait(flags, 1, 0, ${holdMs});
       Atomics.store(flags, 0, 1);
       gate.leave();
       ${then}
     })();`,
    { eval: true, workerData: { memory, flags: flags.buffer, loader: import.meta.resolve('tsx/esm/api'), gate: new URL('../../src/db/write-gate.ts', import.meta.url).href } },
  );
}

describe('jobs on their own thread', { skip: onPostgres ? 'the job thread serves SQLite files; PostgreSQL jobs run in place' : false }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-job-thread-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the write gate lets one side write at a time, and a waiting server write goes before the next job write', async () => {
    const memory = WriteGate.memory();
    const flags = new Int32Array(new SharedArrayBuffer(8));
    // The job side holds its turn for 200 ms, then tries again at once (it must let the waiting
    // server in first).
    const job = gateWorker(
      memory,
      flags,
      200,
      `gate.enter();
       Atomics.store(flags, 0, 2);
       gate.leave();
       parentPort.postMessage('done');`,
    );
    const messages: string[] = [];
    const next = () => new Promise<string>((r) => job.once('message', (m: string) => (messages.push(m), r(m))));
    assert.equal(await next(), 'held');
    const server = new WriteGate(memory, 'server');
    server.enter();
    // The job had left its first turn, and had not taken its second.
    assert.equal(Atomics.load(flags, 0), 1);
    assert.equal(server.holding, true);
    server.leave();
    assert.equal(await next(), 'done');
    assert.equal(Atomics.load(flags, 0), 2);
    await job.terminate();
  });

  it("a server write waiting for a job's turn waits without blocking the event loop", async () => {
    const file = join(dir, 'await-turn.db');
    const server = connect(`sqlite:${file}`);
    await migrateUp(server);
    const flags = new Int32Array(new SharedArrayBuffer(8));
    // The job side holds its turn until told to leave (flags[1]).
    const job = gateWorker(server.writeGate!(), flags, 10_000, `parentPort.postMessage('left');`);
    try {
      await new Promise((r) => job.once('message', r));
      let jobLeftWhenWritten = -1;
      const written = server.kysely.transaction().execute(async (tx) => {
        jobLeftWhenWritten = Atomics.load(flags, 0);
        await tx.insertInto('login_throttle').values({ key: addressKey('192.0.2.99'), failures: 1, window_start: new Date().toISOString(), locked_until: null }).execute();
      });
      // Outside a transaction too.
      const single = server.kysely.deleteFrom('login_throttle').where('key', '=', 'nothing').execute();
      // The event loop runs on while both wait: timers fire, reads are not written.
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (++ticks === 5) (clearInterval(t), resolve());
        }, 5);
      });
      assert.equal(ticks, 5);
      assert.equal(jobLeftWhenWritten, -1, 'the server transaction began while the job held its turn');
      Atomics.store(flags, 1, 1);
      Atomics.notify(flags, 1);
      await Promise.all([written, single]);
      assert.equal(jobLeftWhenWritten, 1);
      const row = await server.kysely.selectFrom('login_throttle').select('failures').where('key', '=', addressKey('192.0.2.99')).executeTakeFirst();
      assert.equal(row?.failures, 1);
    } finally {
      await job.terminate();
      await server.close();
    }
  });

  it('while a job connection is open, it checkpoints the WAL after its commits and the server connection does not', async () => {
    const file = join(dir, 'checkpoints.db');
    const server = connect(`sqlite:${file}`);
    await migrateUp(server);
    const autoCheckpoint = async () => (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(server.kysely)).rows[0]!.wal_autocheckpoint;
    const write = (db: typeof server, key: string) => reserveAttempt(db.kysely, [[addressKey(key), rule]], new Date());
    await write(server, '203.0.113.1');
    assert.equal(await autoCheckpoint(), 1000);
    const job = connect(`sqlite:${file}`, { writeGate: { memory: server.writeGate!(), role: 'job' } });
    try {
      assert.equal((await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(job.kysely)).rows[0]!.wal_autocheckpoint, 0);
      await write(job, '203.0.113.2');
      await write(server, '203.0.113.1');
      assert.equal(await autoCheckpoint(), 0);
    } finally {
      await job.close();
    }
    await write(server, '203.0.113.1');
    assert.equal(await autoCheckpoint(), 1000);
    await server.close();
  });

  it('a job connection checkpoints after its commits, so the WAL stays small however long it writes', async () => {
    const file = join(dir, 'wal-bound.db');
    const server = connect(`sqlite:${file}`);
    await migrateUp(server);
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(server.kysely);
    const job = connect(`sqlite:${file}`, { writeGate: { memory: server.writeGate!(), role: 'job' } });
    const pageSize = (await sql<{ page_size: number }>`pragma page_size`.execute(server.kysely)).rows[0]!.page_size;
    const walPages = () => statSync(`${file}-wal`).size / pageSize;
    const commits = 320;
    try {
      // Each commit adds a row (a new key) to a table and its index: a few pages.
      for (let i = 0; i < commits; i++) await reserveAttempt(job.kysely, [[addressKey(`10.0.${i >> 8}.${i & 255}`), rule]], new Date());
      // Without checkpoints the WAL would hold every commit's pages (more than one per commit);
      // checkpointed, it starts over and never holds much more than one commit's.
      assert.ok(walPages() < commits / 4, `${walPages()} pages in the WAL after ${commits} commits`);
    } finally {
      await job.close();
    }
    const rows = await server.kysely.selectFrom('login_throttle').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(rows.n), commits);
    await server.close();
  });

  it('purge-unused on a SQLite file runs on its own thread while the server keeps writing', async () => {
    const file = join(dir, 'purge.db');
    const db0 = connect(`sqlite:${file}`);
    await migrateUp(db0);
    await db0.close();
    seedStaleRegistrations(file, N);
    const env = readEnv({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, TESSERA_DATA_DIR: dir, TESSERA_SECRET: 'job-thread-secret-job-thread-secret-01', LOG_LEVEL: 'silent' });
    const config = structuredClone(loadInstitution(undefined).config);
    config.lifecycle.batchSize = 100;
    const ctx = await createContext({ env, config, db: connect(`sqlite:${file}`), logLevel: 'silent' });
    try {
      assert.equal(runsOnOwnThread(ctx), true);
      // A test clock keeps the job in this thread (the clock cannot cross threads).
      assert.equal(runsOnOwnThread({ ...ctx, clock: new TestClock() }), false);
      let writes = 0;
      let failures = 0;
      let progressEvents = 0;
      const server = setInterval(() => {
        reserveAttempt(ctx.db.kysely, [[addressKey('198.51.100.7'), rule]], new Date()).then(
            () => writes++,
            () => failures++,
          );
      }, 2);
      const report = await runJob(ctx, 'purge-unused', {
        dryRun: false,
        progress: () => progressEvents++,
      });
      const writesDuringJob = writes;
      clearInterval(server);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(report.counts.purged, N);
      assert.ok(progressEvents >= N / 100);
      assert.equal(failures, 0);
      // Server writes went through during the job, not only after it.
      assert.ok(writesDuringJob > 0);
      const count = await ctx.db.kysely.selectFrom('login_throttle').select('failures').where('key', '=', addressKey('198.51.100.7')).executeTakeFirstOrThrow();
      assert.equal(count.failures, writes);
      const left = await ctx.db.kysely.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '!=', 'purged').executeTakeFirstOrThrow();
      assert.equal(Number(left.n), 0);
      // A second run finds nothing to do.
      assert.deepEqual((await runJob(ctx, 'purge-unused', { dryRun: false })).counts, {});
    } finally {
      await ctx.db.close();
    }
  });

  it('a job thread reports a catalogued failure as the same error', async () => {
    const file = join(dir, 'lease.db');
    const env = readEnv({ NODE_ENV: 'test', DATABASE_URL: `sqlite:${file}`, TESSERA_DATA_DIR: dir, TESSERA_SECRET: 'job-thread-secret-job-thread-secret-01', LOG_LEVEL: 'silent' });
    const ctx = await createContext({ env, config: loadInstitution(undefined).config, db: connect(`sqlite:${file}`), logLevel: 'silent' });
    try {
      // Another instance holds the lease: the thread's run answers job.running.
      await ctx.db.kysely.insertInto('job_leases').values({ job: 'purge-unused', holder: 'elsewhere', expires_at: new Date(Date.now() + 60_000).toISOString(), last_slot: null }).execute();
      await assert.rejects(runJob(ctx, 'purge-unused', { dryRun: false }), { name: 'AppError', code: 'job.running' });
    } finally {
      await ctx.db.close();
    }
  });
});
