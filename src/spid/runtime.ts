import { readFileSync } from 'node:fs';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import { ConfigError } from '../config/env.js';
import { spidSchema, type SpidConfig, type SpidLevel } from '../config/spid-schema.js';
import { localized } from '../views/localized.js';
import { loadIdentityProviders, type IdentityProvider } from './idp-metadata.js';
import { loadOrCreateSpKeys, type SpKeys } from './sp-keys.js';
import { setSpidRuntime } from './runtime-registry.js';
import { buildSpMetadata } from './sp-metadata.js';

/** Everything the SPID routes need, built once at start. */
export interface SpidRuntime {
  cfg: SpidConfig;
  entityId: string;
  acsUrl: string;
  sloUrl: string;
  keys: SpKeys;
  idps: Map<string, IdentityProvider>;
  /** The signed SP metadata, served as is. */
  metadata: string;
}

export const levelUri = (l: SpidLevel): string => `https://www.spid.gov.it/${l}`;
export const levelRank = (uri: string): number => ['SpidL1', 'SpidL2', 'SpidL3'].map((l) => `https://www.spid.gov.it/${l}`).indexOf(uri) + 1;


/**
 * Outside production, SPID_IDP_METADATA alone turns SPID on (e.g. against a local test IdP), the
 * SP's identity taken from the institution: its name, its id as IPACode, its help desk as contact.
 */
function developmentConfig(ctx: AppContext): SpidConfig {
  const inst = ctx.config.institution;
  return spidSchema.parse({
    organization: { name: localized(inst.name, 'it'), displayName: inst.shortName ?? localized(inst.name, 'it'), url: ctx.env.PUBLIC_URL },
    contact: { public: true, ipaCode: inst.id, email: inst.helpdeskEmail ?? `spid@${inst.domain}` },
  });
}

/** The SPID runtime of this instance, or null when SPID is not configured. */
export { spidRuntimeOf } from './runtime-registry.js';

/**
 * Sets SPID up when the institution's file has a `spid:` section: the SP's keys (generated
 * outside production), its signed metadata, and the identity providers from the configured
 * files/URLs, the registry and SPID_IDP_METADATA. Throws ConfigError on a bad configuration.
 */
export async function initSpid(ctx: AppContext): Promise<SpidRuntime | null> {
  const production = ctx.env.NODE_ENV === 'production';
  const devIdps = ctx.env.SPID_IDP_METADATA;
  if (devIdps && production) ctx.log.warn('spid: SPID_IDP_METADATA is for testing and development and is ignored in production');
  const cfg = ctx.config.spid ?? (devIdps && !production ? developmentConfig(ctx) : undefined);
  if (!cfg) return null;
  const base = ctx.env.PUBLIC_URL;
  const entityId = cfg.entityId ?? base;
  const keys = await loadOrCreateSpKeys(cfg, {
    production: ctx.env.NODE_ENV === 'production',
    dataDir: ctx.env.TESSERA_DATA_DIR,
    entityId,
    organization: cfg.organization.name || localized(ctx.config.institution.name, 'it'),
  });
  // In production identity providers are trusted only through the registry's signature.
  if (production && (cfg.registry?.url || cfg.idps.length > 0) && !cfg.registry?.certificateFile) {
    throw new ConfigError('institution', 'spid.registry.certificateFile', 'is required in production: identity provider metadata must be signature-checked');
  }
  let registryCert: string | null = null;
  if (cfg.registry?.certificateFile) {
    try {
      registryCert = readFileSync(cfg.registry.certificateFile, 'utf8');
    } catch (err) {
      throw new ConfigError(cfg.registry.certificateFile, 'spid.registry.certificateFile', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const sources = [
    ...(cfg.registry?.url ? [cfg.registry.url] : []),
    ...cfg.idps,
    ...(production ? '' : (devIdps ?? '')).split(',').map((s) => s.trim()).filter(Boolean),
  ];
  const idps = await loadIdentityProviders(sources, registryCert, ctx.log);
  const ep = { entityId, acsUrl: `${base}/spid/acs`, sloUrl: `${base}/spid/slo` };
  const rt: SpidRuntime = { cfg, ...ep, keys, idps, metadata: buildSpMetadata(cfg, ep, keys, `_${randomId(18).replace(/[^A-Za-z0-9]/g, 'x')}`) };
  setSpidRuntime(ctx, rt);
  return rt;
}
