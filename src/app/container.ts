import { cleartextAddresses, cleartextRedirectText } from '../config/institution-schema.js';
import { pino } from 'pino';
import { createRequire } from 'node:module';
import { ConfigError, readEnv, type Env } from '../config/env.js';
import { loadInstitution } from '../config/load-institution.js';
import type { InstitutionConfig } from '../config/institution-schema.js';
import { connect, type Db } from '../db/connect.js';
import { migrateUp } from '../db/migrate.js';
import { loggerOptions } from '../observability/logger.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { wakeOutbox } from '../outbox/wakeup.js';
import type { AppContext } from './context.js';
import { loadOrCreateSecret, Secrets } from './secret.js';

let common: Set<string> | undefined;
/** The common-password blocklist (about 50,000 entries), loaded once per process. */
function commonPasswords(): Set<string> {
  if (common) return common;
  // Loaded with the first password checked, not at start: an idle instance does not hold it.
  const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> };
  common = new Set(dictionary['passwords-common']!.map((w) => w.toLowerCase()));
  return common;
}

export interface ContextOptions {
  env?: Env;
  config?: InstitutionConfig;
  db?: Db;
  clock?: Clock;
  migrate?: boolean;
  logLevel?: string;
}

/**
 * The composition root: the only place that knows every adapter. Reads the environment and the
 * institution's file (failing fast with file, key and reason), opens the database and applies
 * migrations.
 */
export async function createContext(opts: ContextOptions = {}): Promise<AppContext> {
  const env = opts.env ?? readEnv();
  if (env.NODE_ENV === 'production' && !opts.config && !env.TESSERA_CONFIG) {
    // The built-in demo institution seeds people whose passwords are in the README.
    throw new ConfigError('environment', 'TESSERA_CONFIG', 'is required when NODE_ENV=production (the built-in demo institution is for trying Tessera: its demo passwords are public)');
  }
  const loaded = opts.config ? { config: opts.config, path: '(given)', isDemo: false } : loadInstitution(env.TESSERA_CONFIG);
  if (env.NODE_ENV === 'production') {
    // A code sent back over plain http can be read on the way, a service's keys fetched so can be
    // swapped (cleartextAddresses); elsewhere the start only warns.
    loaded.config.services.forEach((service, n) => {
      const [first] = cleartextAddresses(service);
      if (first) throw new ConfigError(loaded.path, `services.${n}.${first.path.join('.')}`, cleartextRedirectText);
    });
  }
  const db = opts.db ?? connect(env.DATABASE_URL);
  if (opts.migrate !== false) await migrateUp(db);
  const log = pino({ ...loggerOptions(opts.logLevel ?? env.LOG_LEVEL), base: { service: 'tessera' } });
  db.onConnectionError?.((err) => log.warn({ err }, 'a database connection ended; the next query opens a new one'));
  const secrets = new Secrets(loadOrCreateSecret(env.TESSERA_SECRET, env.TESSERA_DATA_DIR));
  const ctx: AppContext = {
    env,
    config: loaded.config,
    configPath: loaded.path,
    isDemo: loaded.isDemo,
    db,
    clock: opts.clock ?? systemClock,
    secrets,
    log,
    isCommonPassword: (w) => commonPasswords().has(w),
    // Wakes this process's outbox dispatcher (if running) right after a commit with messages.
    kickOutbox: () => wakeOutbox(ctx),
  };
  return ctx;
}
