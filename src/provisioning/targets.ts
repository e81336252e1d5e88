import { readFileSync } from 'node:fs';
import { GoogleWorkspaceTarget, parseServiceAccountKey } from '../adapters/google-workspace-target.js';
import { LdapProvisioningTarget } from '../adapters/ldap-provisioning-target.js';
import type { AppContext } from '../app/context.js';
import { ConfigError } from '../config/env.js';
import type { ProvisioningTargetConfig } from '../config/institution-schema.js';
import type { ProvisioningTarget } from '../ports/provisioning-target.js';

/** What enqueueing needs to know about the targets: their ids and populations (null: all). */
export interface TargetSpec {
  id: string;
  type: 'ldap' | 'google';
  populations: string[] | null;
  config: ProvisioningTargetConfig | null;
}

/** The id of the LDAP target given by environment (API.md "Provisioning"). */
export const envLdapTargetId = 'ldap';

/**
 * Every provisioning target: the institution file's, plus the LDAP target of `LDAP_URL` (serving
 * every population) when set. No target configured: provisioning does nothing.
 */
export function targetSpecs(ctx: Pick<AppContext, 'config' | 'env'>): TargetSpec[] {
  const out: TargetSpec[] = ctx.config.provisioning.targets.map((t) => ({ id: t.id, type: t.type, populations: t.populations, config: t }));
  if (ctx.env.LDAP_URL && !out.some((t) => t.id === envLdapTargetId)) out.push({ id: envLdapTargetId, type: 'ldap', populations: null, config: null });
  return out;
}

/** The targets an account of `population` goes to (an account without a person: the all-population ones). */
export function targetsFor(ctx: Pick<AppContext, 'config' | 'env'>, population: string | null): TargetSpec[] {
  return targetSpecs(ctx).filter((t) => t.populations === null || (population !== null && t.populations.includes(population)));
}

/**
 * Throws ConfigError when a configured LDAP target's bind password is not in the environment, so
 * that `serve` stops at start instead of failing every provisioning operation until it is dead.
 */
export function checkTargetSecrets(ctx: Pick<AppContext, 'config'>): void {
  for (const c of ctx.config.provisioning.targets) {
    if (c.type === 'ldap' && !process.env[c.bindPasswordEnv]) throw new ConfigError('environment', c.bindPasswordEnv, `is required by provisioning target ${c.id}`);
  }
}

const open = new WeakMap<object, Map<string, ProvisioningTarget>>();

/**
 * The adapter of target `id`, opened once per context (connections are reused across deliveries).
 * Throws ConfigError for an unknown target or a missing secret.
 */
export function openTarget(ctx: Pick<AppContext, 'config' | 'env'>, id: string): ProvisioningTarget {
  let byId = open.get(ctx);
  if (!byId) open.set(ctx, (byId = new Map()));
  const existing = byId.get(id);
  if (existing) return existing;
  const spec = targetSpecs(ctx).find((t) => t.id === id);
  if (!spec) throw new ConfigError('provisioning', id, 'is not a configured provisioning target');
  const target = build(ctx, spec);
  byId.set(id, target);
  return target;
}

/** Closes every adapter opened for `ctx` (tests, shutdown). */
export async function closeTargets(ctx: object): Promise<void> {
  const byId = open.get(ctx);
  open.delete(ctx);
  await Promise.all([...(byId?.values() ?? [])].map((t) => t.close()));
}

function build(ctx: Pick<AppContext, 'env'>, spec: TargetSpec): ProvisioningTarget {
  const c = spec.config;
  if (!c) {
    const env = ctx.env;
    return new LdapProvisioningTarget({
      id: spec.id,
      url: env.LDAP_URL!,
      bindDn: env.LDAP_BIND_DN ?? '',
      bindPassword: env.LDAP_BIND_PASSWORD ?? '',
      baseDn: env.LDAP_BASE_DN!,
      populations: null,
      quotaAttribute: 'tesseraMailQuota',
      quotaUnit: 'bytes',
      objectClasses: ['tesseraAccount'],
      lockWith: 'ppolicy',
    });
  }
  if (c.type === 'ldap') {
    const bindPassword = process.env[c.bindPasswordEnv];
    if (!bindPassword) throw new ConfigError('environment', c.bindPasswordEnv, `is required by provisioning target ${c.id}`);
    return new LdapProvisioningTarget({ ...c, bindPassword });
  }
  const key = parseServiceAccountKey(readFileSync(c.keyFile, 'utf8'), c.keyFile);
  return new GoogleWorkspaceTarget({
    id: c.id,
    key,
    adminEmail: c.adminEmail,
    customer: c.customer,
    orgUnits: c.orgUnits,
    populations: c.populations,
    directoryUrl: c.directoryUrl,
    tokenUrl: c.tokenUrl ?? key.token_uri,
  });
}
