import { z } from 'zod';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'must start with sqlite: or postgres://')
    .default('sqlite:./data/tessera.db'),
  TESSERA_CONFIG: z.string().optional(),
  TESSERA_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TESSERA_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  TESSERA_DATA_DIR: z.string().default('./data'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  SMS_WEBHOOK_URL: z.url().optional(),
  /** One LDAP provisioning target for testing and small deployments (API.md "Provisioning"). */
  LDAP_URL: z.string().regex(/^ldaps?:\/\//, 'must start with ldap:// or ldaps://').optional(),
  LDAP_BIND_DN: z.string().min(1).optional(),
  LDAP_BIND_PASSWORD: z.string().min(1).optional(),
  LDAP_BASE_DN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.string().optional(),
  /** SPID identity providers for testing and development: comma-separated URLs or file paths of IdP metadata. */
  SPID_IDP_METADATA: z.string().optional(),
});

export type Env = z.infer<typeof envSchema> & { PUBLIC_URL: string };

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
  if (env.LDAP_URL && !env.LDAP_BASE_DN) throw new ConfigError('environment', 'LDAP_BASE_DN', 'is required when LDAP_URL is set');
  return { ...env, PUBLIC_URL: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, '') };
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
