import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('passes SIGTERM on to Tessera, which stops cleanly instead of running on without npm', async () => {
    // Under a process manager or in a container, the stop signal goes to npm. Its shell used to die
    // with it and leave Tessera running on its own, never told to stop.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-npm-start-'));
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, TESSERA_DATA_DIR: dir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (b: Buffer) => (out += b.toString()));
    npm.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let serverPid = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`Tessera did not start:\n${out}`)), 120_000);
        const check = setInterval(() => {
          const m = /"pid":(\d+)[^\n]*Server listening/.exec(out);
          if (m) {
            serverPid = Number(m[1]);
            clearTimeout(timer);
            clearInterval(check);
            resolve();
          }
        }, 100);
      });
      const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
      npm.kill('SIGTERM');
      await exited;
      for (let i = 0; i < 100 && alive(serverPid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(serverPid), false, 'Tessera still runs after npm stopped');
      assert.match(out, /"signal":"SIGTERM"[^\n]*"msg":"stopping"/);
    } finally {
      if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
