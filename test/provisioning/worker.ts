// A provisioning processor in its own process, so a test can kill it mid-batch (SIGKILL).
import { createContext } from '../../src/app/container.js';
import { readEnv } from '../../src/config/env.js';
import { connect } from '../../src/db/connect.js';
import { runProvisioningOnce } from '../../src/provisioning/run-once.js';
import { closeTargets } from '../../src/provisioning/targets.js';
import { testConfig } from '../helpers/app.js';

const db = connect(process.env.WORKER_DATABASE_URL!, process.env.WORKER_SCHEMA ? { schema: process.env.WORKER_SCHEMA } : {});
const ctx = await createContext({ env: readEnv(process.env), config: testConfig(), db, migrate: false, logLevel: 'silent' });
const report = await runProvisioningOnce(ctx, { batch: Number(process.env.WORKER_BATCH ?? 50), concurrency: 4, leaseMs: Number(process.env.WORKER_LEASE_MS ?? 1000) });
process.stdout.write(JSON.stringify(report));
await closeTargets(ctx);
await db.close();
