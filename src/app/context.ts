import type { Logger } from 'pino';
import type { Env } from '../config/env.js';
import type { InstitutionConfig } from '../config/institution-schema.js';
import type { Db } from '../db/connect.js';
import type { Clock } from '../ports/clock.js';
import type { Secrets } from './secret.js';

/**
 * Everything a request or a job needs, built once by the composition root (app/container.ts).
 * Tests build it with a test clock and their own database.
 */
export interface AppContext {
  env: Env;
  config: InstitutionConfig;
  configPath: string;
  isDemo: boolean;
  db: Db;
  clock: Clock;
  secrets: Secrets;
  log: Logger;
  isCommonPassword(lowercased: string): boolean;
  /** Wakes the outbox dispatcher after a commit that wrote messages or provisioning operations. */
  kickOutbox(): void;
}
