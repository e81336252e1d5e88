import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from './env.js';
import { cleartextAddresses, cleartextRedirectText, institutionSchema, type InstitutionConfig } from './institution-schema.js';

export const demoConfigPath = fileURLToPath(new URL('../../config/demo.yaml', import.meta.url));

/**
 * Loads and validates the institution's YAML file (the built-in demo when no path is given).
 * Throws ConfigError naming the file, the key and the reason.
 */
export function loadInstitution(path: string | undefined): { config: InstitutionConfig; path: string; isDemo: boolean } {
  const file = path ?? demoConfigPath;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { config: parseInstitution(text, file), path: file, isDemo: path === undefined };
}

export function parseInstitution(text: string, file = 'institution.yaml'): InstitutionConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, `line ${e.linePos?.[0]?.line ?? '?'}`, `is not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const input: unknown = doc.toJS() ?? {};
  const parsed = institutionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    // A key the file leaves out is said to be missing, not "Invalid input".
    let at: unknown = input;
    for (const k of issue.path) at = at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[k] : undefined;
    // A rule of the file's own (a key needed because of another) says why it is needed.
    const reason =
      issue.code === 'unrecognized_keys'
        ? `has unknown key(s): ${issue.keys.join(', ')}`
        : at === undefined && issue.path.length > 0 && issue.code !== 'custom'
          ? 'is required but missing'
          : issue.message;
    throw new ConfigError(file, key, reason);
  }
  return parsed.data;
}

/**
 * What a configuration leaves out that the institution should not: logged as warnings at start.
 * People who register themselves are to be shown the privacy notice and accept it (GDPR art. 13
 * and 7(1)); without `registration.privacyNotice` the checkbox links to nothing and the recorded
 * acceptance names no version.
 */
export function configWarnings(c: InstitutionConfig): string[] {
  const registers = Object.values(c.populations).some((p) => p?.activation.includes('registration'));
  const warnings = registers && !c.registration.privacyNotice
    ? ['registration.privacyNotice is not set although people register themselves (activation: [registration]): the privacy checkbox links to no notice and the acceptance recorded names no version; give its url and version']
    : [];
  // Refused when NODE_ENV=production (createContext): said here so that staging learns it first.
  c.services.forEach((s, n) => {
    for (const f of cleartextAddresses(s)) warnings.push(`services.${n}.${f.path.join('.')} (${f.uri}) is plain http to a host other than a loopback one: it ${cleartextRedirectText}, and NODE_ENV=production refuses to start with it`);
  });
  return warnings;
}
