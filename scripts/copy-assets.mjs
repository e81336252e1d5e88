#!/usr/bin/env node
// Copies the files the compiled code reads at run time (stylesheet, demo institution and its people) next to it,
// so a built tree runs on its own: `node scripts/copy-assets.mjs [outDir]` (default dist).
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = resolve(root, process.argv[2] ?? 'dist');
cpSync(join(root, 'src/views/assets'), join(out, 'src/views/assets'), { recursive: true });
cpSync(join(root, 'config'), join(out, 'config'), { recursive: true });
