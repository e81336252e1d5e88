#!/usr/bin/env node
// Entry point of the `tessera` command. The compiled tree (dist/, made by `npm install` or
// `npm run build`) runs as plain JavaScript when it is at least as new as the sources; otherwise
// the TypeScript sources run directly through tsx, so an edited checkout never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const useBuilt =
  process.env.TESSERA_FROM_SOURCE !== '1' &&
  existsSync(built) &&
  (!existsSync(join(root, 'src')) || statSync(built).mtimeMs >= newestSource(join(root, 'src')));

if (useBuilt) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
