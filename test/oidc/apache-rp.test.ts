import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ADMIN_TOKEN } from '../helpers/app.js';
import { PASSWORD, seedPerson, startWorld, type OidcWorld } from './harness.js';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const CHROMIUM = '/usr/bin/chromium';
const missing = [
  [APACHE, 'apache2'],
  [join(MODULES, 'mod_auth_openidc.so'), 'libapache2-mod-auth-openidc'],
  [CHROMIUM, 'chromium'],
].filter(([p]) => !existsSync(p!));
const skip = missing.length ? `${missing.map(([, name]) => name).join(', ')} not installed: the Apache mod_auth_openidc relying-party test is skipped` : false;

/** A free loopback port (Apache cannot report the port it got for Listen :0). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`apache did not start on ${port}`);
}

/**
 * A real third-party relying party: Apache httpd with mod_auth_openidc (Debian packages)
 * protects a page on loopback; a real browser opens it and signs in through Tessera.
 */
describe('Apache mod_auth_openidc as a relying party', { skip }, () => {
  let w: OidcWorld;
  let dir: string;
  let port: number;
  let browser: Browser;
  let apache: ReturnType<typeof spawn> | undefined;

  before(async () => {
    w = await startWorld();
    await seedPerson(w, 'S500001');
    port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // The service is registered through the administration API: it works at once.
    const reg = await fetch(`${w.issuer}/api/v1/admin/services`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'apache-docs',
        name: 'Document service',
        protocol: 'oidc',
        redirectUris: [`${base}/protected/redirect_uri`],
        postLogoutRedirectUris: [`${base}/`],
        populations: ['student'],
      }),
    });
    assert.equal(reg.status, 201);
    const { clientSecret } = (await reg.json()) as { clientSecret: string };
    // The OpenID provider loads on its first request; Apache gives its metadata call 5 seconds,
    // which a loaded test machine can need just to load it.
    assert.equal((await fetch(`${w.issuer}/.well-known/openid-configuration`)).status, 200);

    dir = mkdtempSync(join(tmpdir(), 'tessera-apache-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'index.html'), 'public\n');
    const asRoot = process.getuid?.() === 0;
    const mods = ['mpm_event', 'authn_core', 'authz_core', 'authz_user', 'mime', 'include', 'auth_openidc'];
    writeFileSync(
      join(dir, 'httpd.conf'),
      [
        `ServerRoot ${dir}`,
        `ServerName 127.0.0.1`,
        `Listen 127.0.0.1:${port}`,
        `PidFile ${dir}/httpd.pid`,
        `ErrorLog ${dir}/error.log`,
        'LogLevel warn auth_openidc:info',
        asRoot ? 'User nobody\nGroup nogroup' : '',
        ...mods.map((m) => `LoadModule ${m === 'auth_openidc' ? 'auth_openidc_module' : `${m}_module`} ${MODULES}/mod_${m}.so`),
        `DocumentRoot ${dir}`,
        'TypesConfig /etc/mime.types',
        `OIDCProviderMetadataURL ${w.issuer}/.well-known/openid-configuration`,
        'OIDCClientID apache-docs',
        `OIDCClientSecret ${clientSecret}`,
        `OIDCRedirectURI ${base}/protected/redirect_uri`,
        `OIDCCryptoPassphrase ${randomBytes(24).toString('hex')}`,
        'OIDCScope "openid profile email institution"',
        'OIDCPKCEMethod S256',
        'OIDCRemoteUserClaim preferred_username',
        'OIDCSSLValidateServer Off',
        'OIDCCookieSameSite On',
        '<Location /protected>',
        '  AuthType openid-connect',
        '  Require valid-user',
        '  Options +Includes',
        '  AddOutputFilter INCLUDES .shtml',
        '</Location>',
      ].join('\n'),
    );
    const protectedDir = join(dir, 'protected');
    mkdirSync(protectedDir, { recursive: true });
    chmodSync(protectedDir, 0o755);
    writeFileSync(
      join(protectedDir, 'page.shtml'),
      'user=<!--#echo var="REMOTE_USER" --> population=<!--#echo var="OIDC_CLAIM_population" -->\n',
    );
    apache = spawn(APACHE, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForPort(port);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    if (apache && apache.exitCode === null) {
      apache.kill('SIGTERM');
      await new Promise((r) => apache!.once('exit', r));
    }
    await w?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('protects a page: the browser signs in on Tessera and sees the page as the signed-in person', async () => {
    const page = await browser.newPage({ locale: 'en-GB' });
    try {
      await page.goto(`http://127.0.0.1:${port}/protected/page.shtml`);
      assert.match(page.url(), /\/flows\/login\//, 'Apache sent the browser to Tessera to sign in');
      await page.fill('input[name="username"]', 'S500001');
      await page.fill('input[name="password"]', PASSWORD);
      await Promise.all([page.waitForURL(`http://127.0.0.1:${port}/protected/page.shtml`, { timeout: 20_000 }), page.click('button[value="submit"]')]);
      const text = (await page.textContent('body')) ?? '';
      assert.match(text, /user=S500001/);
      assert.match(text, /population=student/);
    } catch (err) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').slice(-3000) : '';
      throw new Error(`${(err as Error).message}\napache error log:\n${log}`);
    } finally {
      await page.close();
    }
  });
});
