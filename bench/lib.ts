import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash } from '@node-rs/argon2';
import { argon2Options } from '../src/auth/passwords.js';

/** One measured figure. `goal` is how the figure is judged, e.g. '≥ 0.25' or '≤ 1.3'. */
export interface Figure {
  metric: string;
  value: number;
  unit: string;
  goal?: string;
}

export interface BenchSection {
  name: string;
  run(): Promise<Figure[]>;
}

/**
 * CPU time (user + system, this process and its libuv threads) of `fn`, in milliseconds.
 * Benchmarks compare CPU times measured in the same run: the machine's wall clock is too noisy.
 */
export async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/** CPU milliseconds of one argon2id hash with Tessera's parameters (median of `n`). */
export async function argon2Bound(n = 9): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await cpuMs(() => hash(`bench-${i}`, argon2Options)));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(n / 2)]!;
}

export function passes(f: Figure): boolean | null {
  if (!f.goal) return null;
  const m = /^(≥|≤)\s*([\d.]+)/.exec(f.goal);
  if (!m) return null;
  const bound = Number(m[2]);
  return m[1] === '≥' ? f.value >= bound : f.value <= bound;
}

/**
 * The repository's root: the nearest folder above this file with a package.json (the benchmark
 * runs compiled from .bench-build/, which has none of its own).
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the benchmark');
    dir = up;
  }
  return dir;
}

/** A job for the benchmark's client process (bench/flow-client.cjs): what to run, for whom, how many at a time. */
export interface ClientJob {
  job: 'code-flow' | 'login-page' | 'api-login' | 'activation';
  /** The server's address, and the issuer its links name (rewritten to the server's address). */
  base: string;
  issuer?: string;
  /** One per run of the job: a username, or what the job needs of one person. */
  items: unknown[];
  concurrency?: number;
  [option: string]: unknown;
}

export interface FlowClient {
  /** Runs a job in the client process and answers what each run returned; rejects when any run failed. */
  run(job: ClientJob): Promise<unknown[]>;
  stop(): Promise<void>;
}

/**
 * Starts the benchmark's people in a process of their own, so that the measured process's CPU
 * is the server's alone. `pinFor` answers the client's requests for a PIN sent to a mobile (read
 * from the outbox, as an SMS gateway would take it).
 */
export function flowClient(pinFor?: (mobile: string) => Promise<string>): FlowClient {
  const child = fork(join(repoRoot(), 'bench/flow-client.cjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending: { resolve: (results: unknown[]) => void; reject: (e: Error) => void } | null = null;
  child.on('message', (m: { needPin?: string; done?: number; failures?: number; error?: string; results?: unknown[] }) => {
    if (m.needPin !== undefined) {
      const mobile = m.needPin;
      if (!pinFor) throw new Error('the client asked for a PIN, and this benchmark sends none');
      void pinFor(mobile).then((pin) => child.send({ pin, mobile }));
      return;
    }
    const p = pending;
    pending = null;
    if (m.failures) p?.reject(new Error(`${m.failures} of ${m.done} runs failed; the first: ${m.error}`));
    else p?.resolve(m.results ?? []);
  });
  return {
    run(job) {
      return new Promise<unknown[]>((resolve, reject) => {
        pending = { resolve, reject };
        child.send(job);
      });
    },
    async stop() {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
