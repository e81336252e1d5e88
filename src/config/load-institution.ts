import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from './env.js';
import { institutionSchema, type InstitutionConfig } from './institution-schema.js';

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
    const reason =
      issue.code === 'unrecognized_keys' ? `has unknown key(s): ${issue.keys.join(', ')}` : at === undefined && issue.path.length > 0 ? 'is required but missing' : issue.message;
    throw new ConfigError(file, key, reason);
  }
  return parsed.data;
}
