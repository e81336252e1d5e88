import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext } from '../../src/app/container.js';
import { buildServer } from '../../src/app/server.js';
import { readEnv } from '../../src/config/env.js';
import { connect } from '../../src/db/connect.js';
import { seedAccount } from '../../test/helpers/fixtures.js';
import { testConfig } from '../../test/helpers/app.js';
import { hash } from '@node-rs/argon2';
import { argon2Options } from '../../src/auth/passwords.js';
import { cpuMs, type BenchSection } from '../lib.js';

const LOGINS = 120;
/**
 * Logins before the measured ones. A server compiles its login path once in its life; until the
 * JIT has optimised it (a few hundred requests), each login also pays for compiling, about a
 * quarter more on this path. The goal is about the server's steady cost, so the measured logins
 * come after these; the first ones are printed beside it.
 */
const WARMUP = 200;
const COLD = 20;

/**
 * A full API login (create the flow, post the credentials) on SQLite, through the whole HTTP
 * stack in-process, compared with one bare argon2id hash: everything beyond the one password
 * verification a login must do is overhead, and should stay within 30 % of it. Measured on a
 * warmed server (WARMUP).
 */
export const loginSection: BenchSection = {
  name: 'login',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
    const db = connect(`sqlite:${join(dir, 'tessera.db')}`);
    const env = readEnv({ NODE_ENV: 'production', TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-01', PUBLIC_URL: 'http://localhost:3000', LOG_LEVEL: 'silent', TESSERA_DATA_DIR: dir });
    const ctx = await createContext({ env, config: testConfig(), db, logLevel: 'silent' });
    const app = await buildServer(ctx, { logger: false });
    await app.ready();
    try {
      await seedAccount(ctx, { externalId: '20260001', status: 'active', password: 'Bench-Pass42', email: '20260001@studenti.unidemo.example.org' });
      const login = async () => {
        const started = await app.inject({ method: 'POST', url: '/api/v1/flows/login', remoteAddress: '192.0.2.10' });
        if (started.statusCode !== 201 && started.statusCode !== 200) throw new Error(`login start: ${started.statusCode} ${started.body}`);
        const id = (started.json() as { id: string }).id;
        const done = await app.inject({
          method: 'POST',
          url: `/api/v1/flows/login/${id}`,
          payload: { username: '20260001', password: 'Bench-Pass42' },
          remoteAddress: '192.0.2.10',
        });
        if (done.statusCode !== 200) throw new Error(`login submit: ${done.statusCode} ${done.body}`);
      };
      const cold = await cpuMs(async () => {
        for (let i = 0; i < COLD; i++) await login();
      });
      for (let i = COLD; i < WARMUP; i++) await login();
      // Logins and bare hashes alternate, so that a change in the machine's load during the run
      // (other processes on shared cores) weighs on both sides of the ratio alike.
      const logins: number[] = [];
      const hashes: number[] = [];
      for (let i = 0; i < LOGINS; i++) {
        logins.push(await cpuMs(login));
        hashes.push(await cpuMs(() => hash(`bench-${i}`, argon2Options)));
      }
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      return [
        { metric: `login CPU / argon2id hash CPU (${LOGINS} alternating pairs)`, value: sum(logins) / sum(hashes), unit: 'ratio', goal: '≤ 1.3' },
        { metric: 'login CPU, mean', value: sum(logins) / LOGINS, unit: 'ms' },
        { metric: 'login CPU, median', value: median(logins), unit: 'ms' },
        { metric: 'argon2id hash CPU, mean', value: sum(hashes) / LOGINS, unit: 'ms' },
        { metric: `the first ${COLD} logins after start (not yet compiled), CPU mean (informative)`, value: cold / COLD, unit: 'ms' },
      ];
    } finally {
      await app.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
