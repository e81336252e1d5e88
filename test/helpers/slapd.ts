import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Debian installs the OpenLDAP server; tests that need it skip when it is missing. */
export const slapdBinary = '/usr/sbin/slapd';
export const slapdMissing = existsSync(slapdBinary) ? false : `OpenLDAP server (${slapdBinary}) not installed: .ci/run installs the slapd package`;

const schemaDir = '/etc/ldap/schema';
const modulePath = '/usr/lib/ldap';
const tesseraSchema = fileURLToPath(new URL('../../ldap/tessera.schema', import.meta.url));

export interface Slapd {
  url: string;
  port: number;
  baseDn: string;
  rootDn: string;
  rootPassword: string;
  /** Runs `ldapwhoami` (an independent client): true when the bind succeeds. */
  whoami(dn: string, password: string): boolean;
  /** Adds entries from LDIF text with `ldapadd`; throws on failure. */
  ldapadd(ldif: string, opts?: { continueOnError?: boolean }): void;
  /** Runs `ldapsearch` as the root DN: the entries found, as attribute → values (lowercased names). */
  search(base: string, filter?: string, attrs?: string[], scope?: 'base' | 'one' | 'sub'): Array<Record<string, string[]>>;
  /** Applies LDIF change records with `ldapmodify` (changes made behind Tessera's back). */
  ldapmodify(ldif: string): void;
  stop(): Promise<void>;
}

function parseLdif(text: string): Array<Record<string, string[]>> {
  const out: Array<Record<string, string[]>> = [];
  for (const block of text.replace(/\n /g, '').split(/\n\n+/)) {
    const e: Record<string, string[]> = {};
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z0-9;-]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const v = m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
      (e[m[1]!.toLowerCase()] ??= []).push(v);
    }
    if (e.dn) out.push(e);
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throw-away slapd on 127.0.0.1 (mdb in a temporary directory; schemas core, cosine,
 * inetorgperson, nis and Tessera's; the argon2 and ppolicy modules with a default policy that
 * honours `pwdAccountLockedTime`), creates the base entry and returns once it answers.
 */
export async function startSlapd(opts: { baseDn?: string } = {}): Promise<Slapd> {
  const baseDn = opts.baseDn ?? 'dc=tessera,dc=test';
  const rootDn = `cn=admin,${baseDn}`;
  const rootPassword = 'root-secret-for-tests';
  const dir = mkdtempSync(join(tmpdir(), 'tessera-slapd-'));
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${schemaDir}/${s}.schema`),
      `include ${tesseraSchema}`,
      `modulepath ${modulePath}`,
      'moduleload back_mdb',
      'moduleload argon2',
      'moduleload ppolicy',
      `pidfile ${join(dir, 'slapd.pid')}`,
      'threads 8',
      'database mdb',
      `suffix "${baseDn}"`,
      `rootdn "${rootDn}"`,
      `rootpw ${rootPassword}`,
      `directory ${join(dir, 'db')}`,
      'maxsize 4294967296',
      'dbnosync',
      'index uid eq',
      'index objectClass eq',
      'sortvals member',
      'overlay ppolicy',
      `ppolicy_default "cn=default,ou=policies,${baseDn}"`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(slapdBinary, ['-f', conf, '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const whoami = (dn: string, password: string) =>
    spawnSync('ldapwhoami', ['-x', '-H', url, '-D', dn, '-w', password], { encoding: 'utf8' }).status === 0;
  const ldapadd = (ldif: string, o: { continueOnError?: boolean } = {}) => {
    const r = spawnSync('ldapadd', ['-x', '-H', url, '-D', rootDn, '-w', rootPassword, ...(o.continueOnError ? ['-c'] : [])], {
      input: ldif,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    if (r.status !== 0 && !o.continueOnError) throw new Error(`ldapadd failed (${r.status}): ${r.stderr}`);
  };
  const search = (base: string, filter = '(objectClass=*)', attrs: string[] = [], scope: 'base' | 'one' | 'sub' = 'sub') => {
    const r = spawnSync('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', url, '-D', rootDn, '-w', rootPassword, '-s', scope, '-b', base, filter, ...attrs], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    if (r.status === 32) return [];
    if (r.status !== 0) throw new Error(`ldapsearch failed (${r.status}): ${r.stderr}`);
    return parseLdif(r.stdout);
  };
  const ldapmodify = (ldif: string) => {
    const r = spawnSync('ldapmodify', ['-x', '-H', url, '-D', rootDn, '-w', rootPassword], { input: ldif, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ldapmodify failed (${r.status}): ${r.stderr}`);
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  for (let i = 0; ; i++) {
    if (spawnSync('ldapwhoami', ['-x', '-H', url, '-D', rootDn, '-w', rootPassword]).status === 0) break;
    if (child.exitCode !== null || i > 100) {
      await stop();
      throw new Error(`slapd did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const rdn = /^dc=([^,]+)/.exec(baseDn)?.[1] ?? 'tessera';
  ldapadd(
    [
      `dn: ${baseDn}`,
      'objectClass: dcObject',
      'objectClass: organization',
      `dc: ${rdn}`,
      'o: Tessera test directory',
      '',
      `dn: ou=policies,${baseDn}`,
      'objectClass: organizationalUnit',
      'ou: policies',
      '',
      `dn: cn=default,ou=policies,${baseDn}`,
      'objectClass: pwdPolicy',
      'objectClass: device',
      'cn: default',
      'pwdAttribute: userPassword',
      'pwdLockout: TRUE',
      '',
    ].join('\n'),
  );
  return { url, port, baseDn, rootDn, rootPassword, whoami, ldapadd, search, ldapmodify, stop };
}
