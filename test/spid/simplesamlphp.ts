import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyPair } from './test-idp.js';

/** Where Debian's simplesamlphp package puts the web root. */
export const SSP_WWW = '/usr/share/simplesamlphp/www';

/** Why SimpleSAMLphp cannot run here, or null when it can. */
export function simpleSamlPhpMissing(): string | null {
  if (!existsSync(SSP_WWW)) return 'the Debian package simplesamlphp is not installed';
  if (spawnSync('sh', ['-c', 'command -v php']).status !== 0) return 'php is not installed';
  return null;
}

const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
const php = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface SimpleSamlPhp {
  base: string;
  metadataUrl: string;
  stop(): void;
}

/**
 * A generic SAML 2.0 identity provider (SimpleSAMLphp from Debian, PHP's built-in server on
 * 127.0.0.1): one user with SPID-named attributes, signing responses and assertions with RSA-SHA256,
 * checking the SP's signed requests with the SP's certificate.
 */
export async function startSimpleSamlPhp(opts: {
  port: number;
  idpKeys: KeyPair;
  sp: { entityId: string; acsUrl: string; sloUrl: string; cert: string };
  user: { username: string; password: string; attributes: Record<string, string> };
}): Promise<SimpleSamlPhp> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ssp-'));
  for (const d of ['config', 'metadata', 'cert', 'log', 'data', 'tmp']) mkdirSync(join(dir, d));
  const base = `http://127.0.0.1:${opts.port}`;
  writeFileSync(join(dir, 'cert', 'idp.key'), opts.idpKeys.key);
  writeFileSync(join(dir, 'cert', 'idp.crt'), opts.idpKeys.cert);
  writeFileSync(
    join(dir, 'config', 'config.php'),
    `<?php
$config = [
  'baseurlpath' => ${php(`${base}/`)},
  'certdir' => ${php(`${join(dir, 'cert')}/`)},
  'loggingdir' => ${php(`${join(dir, 'log')}/`)},
  'datadir' => ${php(`${join(dir, 'data')}/`)},
  'tempdir' => ${php(join(dir, 'tmp'))},
  'metadatadir' => ${php(`${join(dir, 'metadata')}/`)},
  'metadata.sources' => [['type' => 'flatfile']],
  'technicalcontact_name' => 'Test',
  'technicalcontact_email' => 'test@example.org',
  'secretsalt' => 'tessera-test-salt-0123456789abcdef',
  'auth.adminpassword' => 'tessera-test-admin-0123456789',
  'admin.protectindexpage' => false,
  'admin.protectmetadata' => false,
  'enable.saml20-idp' => true,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'store.type' => 'phpsession',
  'session.phpsession.savepath' => ${php(join(dir, 'tmp'))},
  'session.cookie.secure' => false,
  'logging.handler' => 'errorlog',
  'logging.level' => SimpleSAML\\Logger::DEBUG,
  'timezone' => 'UTC',
  'language.default' => 'it',
];
`,
  );
  const attrs = Object.entries(opts.user.attributes)
    .map(([k, v]) => `${php(k)} => [${php(v)}]`)
    .join(', ');
  writeFileSync(
    join(dir, 'config', 'authsources.php'),
    `<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'example-userpass' => ['exampleauth:UserPass', ${php(`${opts.user.username}:${opts.user.password}`)} => [${attrs}]],
];
`,
  );
  writeFileSync(
    join(dir, 'metadata', 'saml20-idp-hosted.php'),
    `<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'example-userpass',
  'saml20.sign.response' => true,
  'saml20.sign.assertion' => true,
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
];
`,
  );
  writeFileSync(
    join(dir, 'metadata', 'saml20-sp-remote.php'),
    `<?php
$metadata[${php(opts.sp.entityId)}] = [
  'AssertionConsumerService' => ${php(opts.sp.acsUrl)},
  'SingleLogoutService' => ${php(opts.sp.sloUrl)},
  'certData' => ${php(body(opts.sp.cert))},
  'validate.authnrequest' => true,
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
];
`,
  );
  const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${opts.port}`, '-t', SSP_WWW], {
    env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: join(dir, 'config') },
    stdio: process.env.SSP_DEBUG ? 'inherit' : 'ignore',
  });
  const metadataUrl = `${base}/saml2/idp/metadata.php`;
  for (let i = 0; i < 50; i++) {
    try {
      const r = await fetch(metadataUrl);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, metadataUrl, stop: () => void child.kill() };
}
