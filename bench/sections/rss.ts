import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, type BenchSection, type Figure } from '../lib.js';

const root = repoRoot();
// Inside the repository (ignored by git) so the built code finds node_modules as an install would.
const buildRoot = join(root, '.tmp', 'bench-build');

/**
 * Builds Tessera the way `npm run build` does, into a scratch tree with its own copy of the
 * `tessera` launcher, so the measured process is exactly `node bin/tessera.mjs serve` running
 * the compiled JavaScript. Returns null (with the reason printed) when the build fails.
 */
function buildProduction(): string | null {
  rmSync(buildRoot, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(buildRoot, 'dist')], { encoding: 'utf8' });
  if (tsc.status !== 0) {
    process.stderr.write(`build failed, measuring the source form only:\n${tsc.stdout}${tsc.stderr}\n`);
    return null;
  }
  const assets = spawnSync(process.execPath, [join(root, 'scripts/copy-assets.mjs'), join(buildRoot, 'dist')], { encoding: 'utf8' });
  if (assets.status !== 0) return null;
  cpSync(join(root, 'bin/tessera.mjs'), join(buildRoot, 'bin/tessera.mjs'));
  return join(buildRoot, 'bin/tessera.mjs');
}

function vmRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * The Node options `npm start` gives the server (a 2 MB young generation: fewer idle megabytes for
 * slightly more frequent minor collections), so the measured process runs as a newcomer's does.
 */
const startFlags = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(/\s+/)
  .filter((a) => a.startsWith('--'));

/** Starts `serve` on a random port with a scratch data dir and SQLite file; resolves once /readyz answers 200. */
async function startServer(launcher: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const dir = env.TESSERA_DATA_DIR!;
  const child = spawn(process.execPath, [...startFlags, launcher, 'serve'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env, DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) return { child, url };
    await sleep(100);
  }
  throw new Error('server never became ready');
}

async function measure(launcher: string, label: string, extraEnv: Record<string, string> = {}): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rss-'));
  const { child, url } = await startServer(launcher, {
    NODE_ENV: 'production',
    TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-01',
    PUBLIC_URL: 'http://localhost:3000',
    TESSERA_DATA_DIR: dir,
    // Production needs an institution's file: the demo one, named explicitly (no demo people).
    TESSERA_CONFIG: join(root, 'config/demo.yaml'),
    ...extraEnv,
  });
  try {
    await sleep(3000);
    const idle = vmRssMb(child.pid!);
    // For information: after serving a few pages (templates, CSS, a flow).
    for (let i = 0; i < 20; i++) {
      await (await fetch(`${url}/?lang=${['it', 'en', 'el'][i % 3]}`)).text();
      await (await fetch(`${url}/flows/login`, { redirect: 'manual' })).text();
    }
    await sleep(1000);
    const used = vmRssMb(child.pid!);
    return [
      { metric: `idle RSS, ${label}`, value: idle, unit: 'MB', ...(label.startsWith('built') ? { goal: '≤ 120' } : {}) },
      { metric: `after 40 requests, ${label}`, value: used, unit: 'MB' },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Memory of an idle `tessera serve` (SQLite), read from /proc/<pid>/status. The goal applies to
 * the production form (compiled JavaScript); the source form (TypeScript through tsx) is shown
 * for comparison, or alone, with the goal, when the build fails.
 */
export const rssSection: BenchSection = {
  name: 'rss',
  async run() {
    if (!existsSync('/proc/self/status')) return [];
    const built = buildProduction();
    const source = await measure(join(root, 'bin/tessera.mjs'), 'source via tsx', { TESSERA_FROM_SOURCE: '1' });
    if (!built) return source.map((f, i) => (i === 0 ? { ...f, goal: '≤ 120' } : f));
    try {
      return [...(await measure(built, 'built (dist)')), ...source];
    } finally {
      rmSync(buildRoot, { recursive: true, force: true });
    }
  },
};
