#!/usr/bin/env node
// Runs the type check, then every *.test.ts file under test/ and src/ with Node's test runner.
// TEST_DATABASE_URL=postgres://… runs the same suite against PostgreSQL.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts') || name.endsWith('.test.tsx')) out.push(p);
  }
  return out;
}

if (!args.includes('--no-typecheck')) {
  const tc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--noEmit'], { stdio: 'inherit' });
  if (tc.status !== 0) process.exit(tc.status ?? 1);
}

let files = [...walk(join(root, 'test')), ...walk(join(root, 'src'))].sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const db = process.env.TEST_DATABASE_URL ?? 'sqlite';
console.log(`tessera tests: ${files.length} files, database ${db.startsWith('postgres') ? 'postgresql' : 'sqlite'}, node ${process.version}`);
const res = spawnSync(
  process.execPath,
  // A test that hangs (a browser waiting for a page that never comes) fails after 5 minutes instead
  // of holding the run.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(res.status ?? 1);
