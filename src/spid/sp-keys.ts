import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { ConfigError } from '../config/env.js';
import type { SpidConfig } from '../config/spid-schema.js';

export interface SpKeys {
  /** PEM private key. */
  key: string;
  /** PEM certificate. */
  cert: string;
  /** The certificate's base64 DER body, as it appears in ds:X509Certificate. */
  certBody: string;
}

export const certBodyOf = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

function checked(key: string, cert: string, source: string): SpKeys {
  try {
    createPrivateKey(key);
    const x = new X509Certificate(cert);
    if (!x.checkPrivateKey(createPrivateKey(key))) throw new Error('key does not match certificate');
  } catch (err) {
    throw new ConfigError(source, 'spid.keyFile', `is not a usable key and certificate pair (${(err as Error).message})`);
  }
  return { key, cert, certBody: certBodyOf(cert) };
}

/**
 * The service provider's signing key and certificate: the configured files in production; outside
 * production, generated once under the data directory (self-signed, RSA 2048, SHA-256) so that a
 * fresh installation can be tried at once. Throws ConfigError when production lacks the files.
 */
export async function loadOrCreateSpKeys(
  cfg: SpidConfig,
  opts: { production: boolean; dataDir: string; entityId: string; organization: string },
): Promise<SpKeys> {
  if (cfg.keyFile || cfg.certFile) {
    if (!cfg.keyFile || !cfg.certFile) throw new ConfigError('institution', 'spid.keyFile', 'and spid.certFile must be given together');
    const read = (f: string, k: string) => {
      try {
        return readFileSync(f, 'utf8');
      } catch (err) {
        throw new ConfigError(f, k, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    };
    return checked(read(cfg.keyFile, 'spid.keyFile'), read(cfg.certFile, 'spid.certFile'), cfg.keyFile);
  }
  if (opts.production) throw new ConfigError('institution', 'spid.keyFile', 'and spid.certFile are required in production');
  const dir = join(opts.dataDir, 'spid');
  const keyPath = join(dir, 'sp-key.pem');
  const certPath = join(dir, 'sp-cert.pem');
  if (existsSync(keyPath) && existsSync(certPath)) {
    return checked(readFileSync(keyPath, 'utf8'), readFileSync(certPath, 'utf8'), keyPath);
  }
  const notAfter = new Date(Date.now() + 3 * 365 * 86_400_000);
  const pems = await generate(
    [
      { name: 'commonName', value: new URL(opts.entityId).host },
      { name: 'organizationName', value: opts.organization },
      { name: 'countryName', value: 'IT' },
    ],
    { keySize: 2048, algorithm: 'sha256', notAfterDate: notAfter },
  );
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return checked(pems.private, pems.cert, keyPath);
}
