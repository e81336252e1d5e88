import { isIP } from 'node:net';
import { z } from 'zod';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  // Links in messages and the OpenID issuer are built from it: a web address (`ftp://x`, where
  // nothing of Tessera answers, started with every link broken).
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// address, such as https://account.example.org' }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'must start with sqlite: or postgres://')
    .optional(),
  TESSERA_CONFIG: z.string().optional(),
  TESSERA_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TESSERA_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  TESSERA_DATA_DIR: z.string().default('./data'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  // Messages are POSTed to it over HTTP: another scheme started, then failed every SMS.
  SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// address' }).optional(),
  /** One LDAP provisioning target for testing and small deployments (API.md "Provisioning"). */
  LDAP_URL: z.string().regex(/^ldaps?:\/\//, 'must start with ldap:// or ldaps://').optional(),
  LDAP_BIND_DN: z.string().min(1).optional(),
  LDAP_BIND_PASSWORD: z.string().min(1).optional(),
  LDAP_BASE_DN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * `true`, or the proxies' addresses and ranges (comma-separated). A number of hops is refused:
   * Fastify trusts no hop count (it cannot check the peer), and `1` would be read as 0.0.0.1.
   */
  TRUST_PROXY: z
    .string()
    .refine((v) => v === 'true' || v.split(',').every((a) => isProxyAddress(a.trim())), 'must be true or the addresses of the proxies in front of Tessera (such as 10.0.0.1, 10.0.0.0/8)')
    .optional(),
  /** SPID identity providers for testing and development: comma-separated URLs or file paths of IdP metadata. */
  SPID_IDP_METADATA: z.string().optional(),
});

/** An address or range the proxy-trust check understands: an IP, a CIDR range, or a named range. */
function isProxyAddress(a: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(a)) return true;
  const [ip, bits, ...rest] = a.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

export type Env = z.infer<typeof envSchema> & { PUBLIC_URL: string; DATABASE_URL: string };

/** Reads and validates the process environment; throws ConfigError naming the variable. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError('environment', issue.path.join('.'), issue.message);
  }
  const env = parsed.data;
  if (env.NODE_ENV === 'production' && !env.TESSERA_SECRET) {
    throw new ConfigError('environment', 'TESSERA_SECRET', 'is required when NODE_ENV=production');
  }
  // Tessera's pages, redirects and OpenID endpoints are at the root of its host.
  const publicUrl = env.PUBLIC_URL ? new URL(env.PUBLIC_URL) : undefined;
  if (publicUrl && (publicUrl.pathname !== '/' || publicUrl.search || publicUrl.hash)) {
    throw new ConfigError('environment', 'PUBLIC_URL', `must be the address of a site's root, such as ${publicUrl.origin}, without a path`);
  }
  if (env.LDAP_URL && !env.LDAP_BASE_DN) throw new ConfigError('environment', 'LDAP_BASE_DN', 'is required when LDAP_URL is set');
  // Without DATABASE_URL the SQLite file lives in the data folder, beside the secret it is read with.
  const databaseUrl = env.DATABASE_URL ?? `sqlite:${env.TESSERA_DATA_DIR.replace(/\/+$/, '')}/tessera.db`;
  return { ...env, DATABASE_URL: databaseUrl, PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '') };
}

/**
 * What a production instance should not run with, though it can: said at start (the log's first
 * lines), not refused, since a trial on one machine may well run so. Links in messages and the
 * OpenID issuer are built from PUBLIC_URL: the default (localhost) reaches nobody, and an http://
 * address leaves session cookies without `Secure` and sends no HSTS.
 */
export function productionWarnings(env: Env, source: NodeJS.ProcessEnv = process.env): string[] {
  if (env.NODE_ENV !== 'production') return [];
  if (!source.PUBLIC_URL) return [`PUBLIC_URL is not set: links in messages and the OpenID issuer say ${env.PUBLIC_URL}; set the address people use, e.g. https://account.example.org`];
  const url = new URL(env.PUBLIC_URL);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol !== 'https:' && !loopback ? [`PUBLIC_URL ${env.PUBLIC_URL} is not https://: session cookies are sent without Secure and no HSTS is sent`] : [];
}

/** A configuration problem: names the source (file or "environment"), the key, and what is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`Invalid configuration in ${source}: ${key || '(root)'} ${reason}`);
    this.name = 'ConfigError';
  }
}
