#!/usr/bin/env node
// Runs after `npm install` / `npm ci`: compiles Tessera to dist/ so `npm start` runs plain
// JavaScript (smaller and faster to start than compiling on the fly). Skipped quietly where the
// compiler is not installed (a production install without devDependencies of a built tree).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(`${root}node_modules/typescript/bin/tsc`)) process.exit(0);
const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
