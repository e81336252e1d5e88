// A provisioning processor in its own process, so a test can kill it mid-batch (SIGKILL).
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { connect } from '../../src/db/connect.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets, openTarget } from '../../src/provisioning/targets.js';
import { testConfig } from '../helpers/app.js';

const db = connect(process.env.WORKER_DATABASE_URL!, process.env.WORKER_SCHEMA ? { schema: process.env.WORKER_SCHEMA } : {});
const ctx = await createContext({ env: readEnv(process.env), config: testConfig(), db, migrate: false, logLevel: 'silent' });
// WORKER_DIE_AFTER=n: the process kills itself (SIGKILL, no clean-up) right after the n-th entry
// reached the directory — a crash in the middle of a claimed batch, at a known point.
const dieAfter = Number(process.env.WORKER_DIE_AFTER ?? 0);
if (dieAfter) {
  const target = openTarget(ctx, 'ldap');
  const ensure = target.ensureAccount.bind(target);
  let n = 0;
  target.ensureAccount = async (a) => {
    await ensure(a);
    if (++n === dieAfter) process.kill(process.pid, 'SIGKILL');
  };
}
const report = await runProvisioningOnce(ctx, { batch: Number(process.env.WORKER_BATCH ?? 50), concurrency: 4, leaseMs: Number(process.env.WORKER_LEASE_MS ?? 1000) });
process.stdout.write(JSON.stringify(report));
await closeTargets(ctx);
await db.close();
