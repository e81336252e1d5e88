import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../src/db/connect.js';
import { runCli, withSqliteFile } from '../helpers/cli.js';

describe('tessera admin, jobs and migrate (CLI)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const run = (args: string[]) => runCli(args, dir, env);
  const query = <T>(fn: (db: Db) => Promise<T>) => withSqliteFile(join(dir, 'tessera.db'), fn);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-admin-cli-'));
    env = { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, TESSERA_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('jobs list names the lifecycle jobs and the reconciliation of each configured target', async () => {
    const plain = await run(['jobs', 'list']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(plain.stdout.split('\n').includes('purge-unused'));
    assert.ok(!plain.stdout.includes('reconcile-'));
    const ldapEnv = { ...env, LDAP_URL: 'ldap://127.0.0.1:1', LDAP_BIND_DN: 'cn=admin,dc=x', LDAP_BIND_PASSWORD: 'x', LDAP_BASE_DN: 'dc=x' };
    const withLdap = await runCli(['jobs', 'list'], dir, ldapEnv);
    assert.equal(withLdap.code, 0, withLdap.stderr);
    assert.ok(withLdap.stdout.split('\n').includes('reconcile-ldap'), withLdap.stdout);
  });

  it('issues, lists and revokes administrator tokens, each audited; never shows a token again', async () => {
    const issued = await run(['admin', 'token', '--name', 'registrar-sync']);
    assert.equal(issued.code, 0, issued.stderr);
    const token = issued.stdout.trim();
    assert.match(token, /^tsa_[A-Za-z0-9_-]{43}$/);
    const id = /token (\S+) issued/.exec(issued.stderr)![1]!;

    const listed = await run(['admin', 'tokens', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => [r.id, r.name, r.revokedAt]), [[id, 'registrar-sync', null]]);
    assert.ok(!listed.stdout.includes(token.slice(4)), 'the token is not listed');

    const revoked = await run(['admin', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const again = await run(['admin', 'revoke', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no valid token/);
    const stored = await query((db) => db.kysely.selectFrom('admin_tokens').select(['revoked_at']).where('id', '=', id).executeTakeFirstOrThrow());
    assert.ok(stored.revoked_at);
    const audit = await query((db) => db.kysely.selectFrom('audit_log').select(['actor', 'action', 'details']).where('action', 'like', 'admin.token_%').orderBy('id').execute());
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, JSON.parse(a.details).tokenId]),
      [
        ['cli', 'admin.token_issued', id],
        ['cli', 'admin.token_revoked', id],
      ],
    );
    assert.ok(!JSON.stringify(audit).includes(token.slice(4)), 'no token in the audit log');
  });

  it('refuses an empty or overlong token name, issuing nothing', async () => {
    for (const name of ['', '   ', 'x'.repeat(101), 'a\u0007b']) {
      const r = await run(['admin', 'token', '--name', name]);
      assert.equal(r.code, 1, JSON.stringify(name));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /1 to 100 printable characters/);
    }
  });

  it('jobs: an unknown job exits 1, with the error envelope on stdout under --json', async () => {
    const r = await run(['jobs', 'run', 'no-such-job', '--json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'job.unknown');
    assert.match(r.stderr, /No such job\. \(job\.unknown\) \(jobs: /);
    const help = await run(['jobs', '--help']);
    for (const job of ['expire-unverified', 'purge-unused', 'expire-ceased', 'mailbox-reminders']) assert.match(help.stdout, new RegExp(job));
  });

  it('migrate --down takes a positive number, and reverts nothing otherwise', async () => {
    for (const bad of ['abc', '0', '-1', '2x']) {
      const r = await run(['migrate', '--down', bad]);
      assert.equal(r.code, 1, bad);
      assert.match(r.stderr, /positive number/);
    }
    const up = await run(['migrate']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /up to date/);
  });
});
