import { expireCeased } from './expire-ceased.js';
import { expireUnverified } from './expire-unverified.js';
import { purgeUnused } from './purge-unused.js';
import type { JobDefinition } from './types.js';

/** Every lifecycle job by name (the names of the CLI, the admin API and the schedule). */
export const jobDefinitions: Record<string, JobDefinition> = {
  [expireUnverified.name]: expireUnverified,
  [purgeUnused.name]: purgeUnused,
  [expireCeased.name]: expireCeased,
};
