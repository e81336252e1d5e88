import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext } from '../../src/app/container.js';
import { buildServer } from '../../src/app/server.js';
import { readEnv } from '../../src/config/env.js';
import { connect } from '../../src/db/connect.js';
import { seedAccount } from '../../test/helpers/fixtures.js';
import { testConfig } from '../../test/helpers/app.js';
import { argon2Bound, cpuMs, type BenchSection } from '../lib.js';

const LOGINS = 30;
const WARMUP = 5;

/**
 * A full API login (create the flow, post the credentials) on SQLite, through the whole HTTP
 * stack in-process, compared with one bare argon2id hash: everything beyond the one password
 * verification a login must do is overhead, and should stay within 30 % of it.
 */
export const loginSection: BenchSection = {
  name: 'login',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
    const db = connect(`sqlite:${join(dir, 'tessera.db')}`);
    const env = readEnv({ NODE_ENV: 'production', TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-01', LOG_LEVEL: 'silent', TESSERA_DATA_DIR: dir });
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
      for (let i = 0; i < WARMUP; i++) await login();
      const bound = await argon2Bound();
      const samples: number[] = [];
      const total = await cpuMs(async () => {
        for (let i = 0; i < LOGINS; i++) samples.push(await cpuMs(login));
      });
      samples.sort((a, b) => a - b);
      const mean = total / LOGINS;
      return [
        { metric: 'login CPU / argon2id hash CPU (mean of 30 logins)', value: mean / bound, unit: 'ratio', goal: '≤ 1.3' },
        { metric: 'login CPU, mean', value: mean, unit: 'ms' },
        { metric: 'login CPU, median', value: samples[Math.floor(LOGINS / 2)]!, unit: 'ms' },
        { metric: 'argon2id hash CPU, median of 9', value: bound, unit: 'ms' },
      ];
    } finally {
      await app.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
