import { createHash, randomBytes } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { z } from 'zod';
import { ConfigError } from '../config/env.js';
import type { ProvisionedAccount, ProvisioningTarget, TargetEntry, TargetRef } from '../ports/provisioning-target.js';

const keySchema = z.object({
  type: z.literal('service_account'),
  client_email: z.email(),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
});
export type ServiceAccountKey = z.infer<typeof keySchema>;

/** Reads a service account's JSON key; throws ConfigError naming the file. */
export function parseServiceAccountKey(text: string, source: string): ServiceAccountKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(source, '', 'is not JSON');
  }
  const r = keySchema.safeParse(json);
  if (!r.success) throw new ConfigError(source, r.error.issues[0]!.path.join('.'), r.error.issues[0]!.message);
  return r.data;
}

export interface GoogleTargetOptions {
  id: string;
  key: ServiceAccountKey;
  adminEmail: string;
  customer: string;
  orgUnits: Partial<Record<string, string>>;
  populations: string[];
  directoryUrl: string;
  tokenUrl: string;
}

/** The Directory API's scope for users (domain-wide delegation grants it to the service account). */
export const directoryUserScope = 'https://www.googleapis.com/auth/admin.directory.user';

/**
 * Google accepts only MD5, SHA-1 and crypt(3) hashes (MD5-crypt, SHA-256-crypt, SHA-512-crypt);
 * Tessera's argon2id hashes are left out and such accounts sign in to Google through Tessera's
 * single sign-on (SAML). Returns null when the hash cannot be given to Google.
 */
export function googlePassword(hash: string | null): { password: string; hashFunction: 'crypt' } | null {
  if (hash && /^\$(1|5|6)\$/.test(hash)) return { password: hash, hashFunction: 'crypt' };
  return null;
}

class GoogleApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }
}

interface GoogleUser {
  primaryEmail: string;
  name?: { givenName?: string; familyName?: string };
  suspended?: boolean;
  orgUnitPath?: string;
}

/**
 * Google Workspace users through the Admin SDK Directory API: created in the population's
 * organisational unit with the institutional address, suspended with `suspended: true`, deleted
 * with the account. Authenticates with a service-account key (JWT bearer grant, RS256).
 */
export class GoogleWorkspaceTarget implements ProvisioningTarget {
  readonly type = 'google' as const;
  readonly id: string;
  private token: { value: string; expires: number } | null = null;

  constructor(private readonly o: GoogleTargetOptions) {
    this.id = o.id;
  }

  keyOf(ref: TargetRef): string | null {
    return ref.email?.toLowerCase() ?? null;
  }

  private pendingToken: Promise<string> | null = null;

  /** A cached access token; concurrent callers share one token request. */
  private async accessToken(): Promise<string> {
    if (this.token && this.token.expires > Date.now() + 60_000) return this.token.value;
    this.pendingToken ??= this.fetchToken().finally(() => (this.pendingToken = null));
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    const key = await importPKCS8(this.o.key.private_key, 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: directoryUserScope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.o.key.private_key_id ? { kid: this.o.key.private_key_id } : {}) })
      .setIssuer(this.o.key.client_email)
      .setSubject(this.o.adminEmail)
      .setAudience(this.o.tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key);
    const res = await fetch(this.o.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || !body.access_token) throw new GoogleApiError(res.status, `token request refused: ${body.error ?? res.status}`);
    this.token = { value: body.access_token, expires: Date.now() + (body.expires_in ?? 3600) * 1000 };
    return this.token.value;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T | null }> {
    const token = await this.accessToken();
    const res = await fetch(`${this.o.directoryUrl}/admin/directory/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as T & { error?: { message?: string } }) : null;
    if (res.status === 401) this.token = null;
    if (!res.ok && res.status !== 404) throw new GoogleApiError(res.status, `${method} ${path.split('?')[0]}: ${res.status} ${(json as { error?: { message?: string } } | null)?.error?.message ?? ''}`.trim());
    return { status: res.status, body: json };
  }

  private userPath(email: string) {
    return `/users/${encodeURIComponent(email)}`;
  }

  private orgUnit(population: string | null): string {
    return (population && this.o.orgUnits[population]) || '/';
  }

  private need(ref: TargetRef): string {
    if (!ref.email) throw new Error(`account ${ref.username} has no institutional address for Google Workspace`);
    return ref.email;
  }

  async ensureAccount(a: ProvisionedAccount): Promise<void> {
    const email = this.need(a);
    const fields = {
      primaryEmail: email,
      name: { givenName: a.givenName || a.username, familyName: a.familyName || a.username },
      orgUnitPath: this.orgUnit(a.population),
      suspended: a.suspended,
    };
    const found = await this.call<GoogleUser>('GET', this.userPath(email));
    if (found.status !== 404) {
      await this.call('PUT', this.userPath(email), fields);
      return;
    }
    // Google requires a password on creation: a supported hash, or a random one nobody knows
    // (sign-in then goes through Tessera's single sign-on).
    const password = googlePassword(a.passwordHash) ?? { password: createHash('sha1').update(randomBytes(32)).digest('hex'), hashFunction: 'SHA-1' };
    try {
      await this.call('POST', '/users', { ...fields, ...password });
    } catch (e) {
      // Created meanwhile by another delivery: update it instead.
      if (!(e instanceof GoogleApiError && e.status === 409)) throw e;
      await this.call('PUT', this.userPath(email), fields);
    }
  }

  async setPassword(ref: TargetRef, passwordHash: string | null): Promise<boolean> {
    const email = this.need(ref);
    const password = googlePassword(passwordHash);
    if (!password) {
      const found = await this.call('GET', this.userPath(email));
      return found.status !== 404;
    }
    return (await this.call('PUT', this.userPath(email), password)).status !== 404;
  }

  async suspend(ref: TargetRef): Promise<boolean> {
    if (!ref.email) return false;
    return (await this.call('PUT', this.userPath(ref.email), { suspended: true })).status !== 404;
  }

  async delete(ref: TargetRef): Promise<void> {
    if (!ref.email) return;
    await this.call('DELETE', this.userPath(ref.email));
  }

  /** The users of the organisational units Tessera manages. */
  async list(): Promise<TargetEntry[]> {
    const units = new Map<string, string>();
    for (const p of this.o.populations) units.set(this.orgUnit(p), p);
    const out: TargetEntry[] = [];
    for (const [unit, population] of units) {
      let pageToken: string | undefined;
      do {
        const q = new URLSearchParams({ customer: this.o.customer, maxResults: '500', query: `orgUnitPath='${unit}'`, ...(pageToken ? { pageToken } : {}) });
        const r = await this.call<{ users?: GoogleUser[]; nextPageToken?: string }>('GET', `/users?${q}`);
        for (const u of r.body?.users ?? []) {
          if ((u.orgUnitPath ?? '/') !== unit) continue;
          out.push({
            key: u.primaryEmail.toLowerCase(),
            username: u.primaryEmail.split('@')[0]!,
            email: u.primaryEmail,
            givenName: u.name?.givenName ?? null,
            familyName: u.name?.familyName ?? null,
            population,
            mailQuotaBytes: null,
            suspended: u.suspended === true,
          });
        }
        pageToken = r.body?.nextPageToken;
      } while (pageToken);
    }
    return out;
  }

  differences(a: ProvisionedAccount, e: TargetEntry): string[] {
    const out: string[] = [];
    if (e.givenName !== (a.givenName || a.username)) out.push('name.givenName');
    if (e.familyName !== (a.familyName || a.username)) out.push('name.familyName');
    if (this.orgUnit(e.population) !== this.orgUnit(a.population)) out.push('orgUnitPath');
    if (e.suspended !== a.suspended) out.push('suspended');
    return out;
  }

  async close(): Promise<void> {
    this.token = null;
  }
}
