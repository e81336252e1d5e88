import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { hash } from '@node-rs/argon2';
import { createContext } from '../../src/app/container.js';
import type { AppContext } from '../../src/app/context.js';
import { argon2Options } from '../../src/auth/passwords.js';
import { readEnv } from '../../src/config/env.js';
import { connect, type Db } from '../../src/db/connect.js';
import { enqueueAccountProvisioning } from '../../src/provisioning/enqueue.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { onPostgres, pgTestSchema, testConfig, testDatabaseUrl } from '../helpers/app.js';
import { seedAccount } from '../helpers/fixtures.js';
import { slapdMissing, startSlapd, type Slapd } from '../helpers/slapd.js';

const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** A database two processes can share: a SQLite file, or a PostgreSQL schema of its own. */
async function sharedDb(): Promise<{ url: string; schema?: string; db: Db; drop(): Promise<void> }> {
  if (!onPostgres) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
    const url = `sqlite:${join(dir, 'tessera.db')}`;
    const db = connect(url);
    return { url, db, drop: async () => (await db.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const { schema, db, drop } = await pgTestSchema();
  return { url: testDatabaseUrl, schema, db, drop };
}

describe('a provisioning processor killed mid-batch', { skip: slapdMissing }, () => {
  let ldap: Slapd;
  let shared: Awaited<ReturnType<typeof sharedDb>>;
  let ctx: AppContext;
  let ldapEnv: Record<string, string>;
  const N = 150;
  let skew = 0;

  before(async () => {
    ldap = await startSlapd();
    shared = await sharedDb();
    ldapEnv = { LDAP_URL: ldap.url, LDAP_BIND_DN: ldap.rootDn, LDAP_BIND_PASSWORD: ldap.rootPassword, LDAP_BASE_DN: ldap.baseDn };
    const env = readEnv({ NODE_ENV: 'test', TESSERA_SECRET: 'test-secret-test-secret-test-secret-0123', LOG_LEVEL: 'silent', ...ldapEnv });
    // Real time (the worker process uses it too), moved forward by `skew` to outlive a lease.
    ctx = await createContext({ env, config: testConfig(), db: shared.db, logLevel: 'silent', clock: { now: () => new Date(Date.now() + skew) } });
  });
  after(async () => {
    if (ctx) await closeTargets(ctx);
    await shared?.drop();
    await ldap?.stop();
  });

  it('delivers every operation exactly once in effect after a restart', async () => {
    const passwordHash = await hash('Comune-Pw-2026', argon2Options);
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const a = await seedAccount(ctx, { externalId: `s${String(i).padStart(4, '0')}`, status: 'active', passwordHash, email: `s${i}@studenti.unidemo.example.org` });
      ids.push(a.accountId);
    }
    await ctx.db.kysely.transaction().execute(async (tx) => {
      for (const id of ids) await enqueueAccountProvisioning(ctx, tx, ctx.clock.now(), id, ['ensure', 'set_password']);
    });
    const count = async (status: string) =>
      Number((await ctx.db.kysely.selectFrom('outbox').select((e) => e.fn.countAll().as('n')).where('status', '=', status).executeTakeFirstOrThrow()).n);

    const child = spawn(process.execPath, ['--import', 'tsx', worker], {
      env: { ...process.env, ...ldapEnv, WORKER_DATABASE_URL: shared.url, WORKER_SCHEMA: shared.schema ?? '', WORKER_BATCH: '100', WORKER_DIE_AFTER: '130', WORKER_LEASE_MS: '60000', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
    assert.equal(signal, 'SIGKILL', `the processor died of its kill: ${stderr}`);
    const inFlight = await count('sending');
    assert.ok(inFlight > 0, 'the kill landed while rows were claimed');
    const sentBefore = await count('sent');
    assert.ok(sentBefore < 2 * N, 'the kill landed mid-run');
    // Some entries of the killed batch reached the directory with their rows still claimed: they
    // will be delivered a second time.
    const written = ldap.search(`ou=people,${ldap.baseDn}`, '(objectClass=inetOrgPerson)', ['uid'], 'one').length;
    assert.ok(written > sentBefore / 2, `${written} entries written, ${sentBefore} rows marked sent`);

    // Claimed rows wait for their lease to run out, then a new processor takes them over.
    const early = await runProvisioningOnce(ctx);
    assert.equal(await count('sending'), inFlight, 'a live lease is not taken over');
    assert.ok(early.delivered < 2 * N);
    skew = 61_000;
    await runProvisioningOnce(ctx);
    assert.equal(await count('sent'), 2 * N);

    const people = ldap.search(`ou=people,${ldap.baseDn}`, '(objectClass=inetOrgPerson)', ['uid', 'userPassword'], 'one');
    assert.equal(people.length, N);
    assert.deepEqual(new Set(people.map((p) => p.uid![0])).size, N);
    assert.ok(people.every((p) => p.userpassword?.length === 1 && p.userpassword[0] === `{ARGON2}${passwordHash}`));
    const members = ldap.search(`cn=student,ou=groups,${ldap.baseDn}`, '(objectClass=*)', ['member'], 'base')[0]!.member!;
    assert.equal(members.length, N);
    assert.equal(new Set(members).size, N);
    assert.equal(ldap.whoami(`uid=s0007,ou=people,${ldap.baseDn}`, 'Comune-Pw-2026'), true);
    const states = await ctx.db.kysely.selectFrom('provisioning_state').select(['status']).execute();
    assert.equal(states.length, N);
    assert.ok(states.every((s) => s.status === 'ok'));
  });
});
