import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type Db } from '../../src/db/connect.js';

const bin = fileURLToPath(new URL('../../bin/tessera.mjs', import.meta.url));

/** Runs `tessera ARGS` in `cwd` with exactly `env`; resolves with the exit code and both outputs. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Opens the SQLite file a command wrote, runs `fn` on it and closes it. */
export async function withSqliteFile<T>(file: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = connect(`sqlite:${file}`);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
