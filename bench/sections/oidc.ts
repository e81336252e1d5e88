import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createContext } from '../../src/app/container.js';
import { buildServer } from '../../src/app/server.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect } from '../../src/db/connect.js';
import { seedAccount } from '../../test/helpers/fixtures.js';
import { argon2Bound, cpuMs, flowClient, repoRoot, type BenchSection, type Figure } from '../lib.js';

const ISSUER = 'http://localhost:3000';
const REDIRECT = 'https://webmail.bench.invalid/cb';
const SECRET = 'bench-webmail-secret-0123456789';
const PASSWORD = 'Bench-Password-42';

/** Single sign-on: CPU of a full code flow against one argon2id hash; userinfo against a bare route. */
export const oidcSection: BenchSection = {
  name: 'oidc',
  async run(): Promise<Figure[]> {
    const config = structuredClone(loadInstitution(undefined).config);
    config.demo.seed = false;
    config.services = [
      {
        id: 'webmail',
        name: 'Webmail',
        protocol: 'oidc',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        populations: ['student'],
        clientSecret: SECRET,
        firstParty: true,
        tokenEndpointAuthMethod: 'client_secret_basic',
      },
    ];
    const env = readEnv({ NODE_ENV: 'test', TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-0', PUBLIC_URL: ISSUER, LOG_LEVEL: 'silent' });
    const db = connect('sqlite::memory:');
    const ctx = await createContext({ env, config, db, logLevel: 'silent' });
    const app = await buildServer(ctx, { logger: false });
    await app.ready();
    // The server listens on loopback and the people are in a process of their own
    // (bench/flow-client.cjs): the figure is the server's CPU for a code flow, HTTP included, and
    // none of what a browser or a campus service spends on its side.
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const client = flowClient();
    const cfg = { base, issuer: ISSUER, clientId: 'webmail', secret: SECRET, redirect: REDIRECT, password: PASSWORD };
    // A server compiles its code-flow path once in its life: the figure is its steady cost, after
    // WARM flows (the first COLD of them are printed beside it). The measured flows alternate with
    // bare hashes, as the login figure does, so that a drift in the machine's speed weighs on both.
    const WARM = 100;
    const COLD = 10;
    const n = 60;
    const users = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `B${from + k}`);
    for (let i = 0; i < WARM + n + 2; i++) await seedAccount(ctx, { externalId: `B${i}`, status: 'active', password: PASSWORD, email: `b${i}@example.org` });
    await client.run({ job: 'code-flow', ...cfg, items: users(0, 2) });
    const coldCpu = (await cpuMs(() => client.run({ job: 'code-flow', ...cfg, items: users(2, COLD + 2) }))) / COLD;
    await client.run({ job: 'code-flow', ...cfg, items: users(COLD + 2, WARM + 2) });
    let flowSum = 0;
    let hashSum = 0;
    for (let i = WARM + 2; i < WARM + n + 2; i++) {
      flowSum += await cpuMs(() => client.run({ job: 'code-flow', ...cfg, items: [`B${i}`] }));
      hashSum += await cpuMs(() => argon2Bound(1));
    }
    const flowCpu = flowSum / n;
    const bound = hashSum / n;

    // For comparison: the Tessera login form alone (the part of the flow that is not OpenID Connect).
    const loginCpu = (await cpuMs(() => client.run({ job: 'login-page', ...cfg, items: users(WARM + 2, WARM + n + 2) }))) / n;

    // Userinfo against a bare Fastify route reading one row from the same database.
    const [accessToken] = (await client.run({ job: 'code-flow', ...cfg, items: ['B0'] })) as [string];
    const bare = Fastify({ logger: false });
    const accountId = (await db.kysely.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    bare.get('/read', async () => db.kysely.selectFrom('accounts').select(['id', 'username']).where('id', '=', accountId).executeTakeFirst());
    await bare.ready();
    // Userinfo and the bare route alternate in short blocks, so both are measured under the same
    // conditions (the machine's speed drifts). Every tenth request lets the event loop turn, as it
    // does between a server's requests: injected requests that never yield leave each response's
    // clean-up (a setImmediate) pending, the heap grows by every response, and garbage collection
    // of that heap would be measured instead of the routes.
    const rounds = 40;
    const block = 20;
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
    const userinfo = () => app.inject({ method: 'GET', url: '/oidc/me', headers: { authorization: `Bearer ${accessToken}` } });
    const read = () => bare.inject({ method: 'GET', url: '/read' });
    const check = await userinfo();
    if (check.statusCode !== 200) throw new Error(`userinfo: ${check.statusCode} ${check.body}`);
    let failures = 0;
    const runBlock = async (req: () => Promise<LightMyRequestResponse>) => {
      for (let i = 0; i < block; i++) {
        if ((await req()).statusCode !== 200) failures++;
        if (i % 10 === 9) await tick();
      }
    };
    for (let i = 0; i < 5; i++) {
      await runBlock(userinfo);
      await runBlock(read);
    }
    let uiCpu = 0;
    let bareCpu = 0;
    for (let r = 0; r < rounds; r++) {
      uiCpu += await cpuMs(() => runBlock(userinfo));
      bareCpu += await cpuMs(() => runBlock(read));
    }
    if (failures) throw new Error(`userinfo or the bare route failed ${failures} times`);
    const m = rounds * block;

    // Throughput: both served over HTTP on loopback, the requests sent by a load generator in
    // its own process (8 at a time, kept-alive connections), so what is measured is this process's
    // CPU per request served, parsing and writing included.
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
    const loader = fork(join(repoRoot(), 'bench/load-client.cjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const load = async (url: string, headers: Record<string, string>, n: number) => {
      loader.send({ url, headers, n, concurrency: 8 });
      const [reply] = (await once(loader, 'message')) as [{ failures: number }];
      if (reply.failures) throw new Error(`${url}: ${reply.failures} of ${n} requests failed`);
    };
    const meOverHttp = (n: number) => load(`${base}/oidc/me`, { authorization: `Bearer ${accessToken}` }, n);
    const readOverHttp = (n: number) => load(`${bareUrl}/read`, {}, n);
    await meOverHttp(500);
    await readOverHttp(500);
    let uiHttp = 0;
    let bareHttp = 0;
    const httpRounds = 20;
    const perRound = 250;
    for (let r = 0; r < httpRounds; r++) {
      uiHttp += await cpuMs(() => meOverHttp(perRound));
      bareHttp += await cpuMs(() => readOverHttp(perRound));
    }
    await stop(loader);
    await client.stop();
    const h = httpRounds * perRound;
    await bare.close();
    await app.close();
    await db.close();
    return [
      { metric: 'argon2id hash (CPU, mean)', value: bound, unit: 'ms' },
      { metric: 'full code flow (server CPU, over HTTP)', value: flowCpu, unit: 'ms' },
      { metric: `code flow / argon2id hash (${n} alternating pairs, after ${WARM} flows)`, value: flowCpu / bound, unit: 'ratio', goal: '≤ 1.6' },
      { metric: `the first ${COLD} flows after start (not yet compiled), CPU mean (informative)`, value: coldCpu, unit: 'ms' },
      { metric: 'of which the Tessera login form alone (CPU)', value: loginCpu, unit: 'ms' },
      { metric: 'userinfo over HTTP (server CPU per request)', value: (uiHttp / h) * 1000, unit: 'µs' },
      { metric: 'bare route with one read over HTTP (server CPU per request)', value: (bareHttp / h) * 1000, unit: 'µs' },
      { metric: 'userinfo throughput / bare route (HTTP)', value: bareHttp / uiHttp, unit: 'ratio', goal: '≥ 0.5' },
      { metric: 'userinfo injected, without HTTP (CPU per request)', value: (uiCpu / m) * 1000, unit: 'µs' },
      { metric: 'bare route injected (CPU per request)', value: (bareCpu / m) * 1000, unit: 'µs' },
      { metric: 'userinfo / bare route, injected (informative: leaves out HTTP parsing and writing)', value: bareCpu / uiCpu, unit: 'ratio' },
    ];
  },
};

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.disconnect();
  await exited;
}
