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
