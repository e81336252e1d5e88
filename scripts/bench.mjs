#!/usr/bin/env node
// `npm run bench [section…]`: compiles Tessera with the benchmark into .bench-build/ (as
// `npm run build` compiles the server that production runs), then runs the compiled benchmark.
// Measuring the compiled JavaScript, not the sources through the on-the-fly TypeScript loader,
// keeps the loader's own work (its module hooks, the helpers it adds to every function) out of
// the figures. The build is incremental: a second run compiles only what changed.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, '.bench-build');
const run = (args, what) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${what} failed\n`);
    process.exit(r.status ?? 1);
  }
};
run([join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.bench.json')], 'compiling');
run([join(root, 'scripts/copy-assets.mjs'), out], 'copying assets');
// The LDAP schema the directory benchmark loads into its slapd.
cpSync(join(root, 'ldap'), join(out, 'ldap'), { recursive: true });
run([join(out, 'bench/run.js'), ...process.argv.slice(2)], 'the benchmark');
