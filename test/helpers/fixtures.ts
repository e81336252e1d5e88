import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../src/app/context.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { nameKeyColumns } from '../../src/domain/name-key.js';

export interface PersonFixture {
  population?: string;
  externalId: string;
  givenName?: string;
  familyName?: string;
  registrarStatus?: string;
  taxCode?: string | null;
  mobile?: string | null;
  personalEmail?: string | null;
  birthDate?: string | null;
  amka?: string | null;
  orgUnit?: string | null;
  contractType?: string | null;
  entitlements?: string[];
}

/**
 * Puts a person and their account straight into the database, as an import would leave them.
 * `password` becomes the account's (legacy-style) hash: argon2id here unless `passwordHash` is given.
 */
export async function seedAccount(
  ctx: AppContext,
  p: PersonFixture & { status?: string; password?: string; passwordHash?: string; username?: string; email?: string | null; roles?: string[] },
): Promise<{ personId: string; accountId: string; username: string }> {
  const now = ctx.clock.now().toISOString();
  const personId = randomUUID();
  const accountId = randomUUID();
  const username = p.username ?? p.externalId;
  await ctx.db.kysely
    .insertInto('persons')
    .values({
      id: personId,
      population: p.population ?? 'student',
      external_id: p.externalId,
      given_name: p.givenName ?? 'Maria',
      family_name: p.familyName ?? 'Rossi',
      ...nameKeyColumns(p.givenName ?? 'Maria', p.familyName ?? 'Rossi'),
      birth_date: p.birthDate ?? null,
      tax_code: p.taxCode ?? null,
      amka: p.amka ?? null,
      insurance_country: null,
      insurance_number: null,
      mobile: p.mobile ?? null,
      personal_email: p.personalEmail ?? null,
      personal_email_lower: p.personalEmail?.toLowerCase() ?? null,
      registrar_status: p.registrarStatus ?? 'enrolled',
      org_unit: p.orgUnit ?? null,
      role: null,
      contract_type: p.contractType ?? null,
      entitlements: JSON.stringify(p.entitlements ?? []),
      extra: '{}',
      source_hash: 'fixture',
      created_at: now,
      updated_at: now,
    })
    .execute();
  const hash = p.passwordHash ?? (p.password ? await hashPassword(p.password) : null);
  await ctx.db.kysely
    .insertInto('accounts')
    .values({
      id: accountId,
      person_id: personId,
      username,
      username_lower: username.toLowerCase(),
      email: p.email ?? null,
      email_lower: p.email?.toLowerCase() ?? null,
      status: p.status ?? 'pending_activation',
      password_hash: hash,
      password_changed_at: null,
      federated_only: 0,
      roles: JSON.stringify(p.roles ?? []),
      created_at: now,
      updated_at: now,
      version: 0,
    })
    .execute();
  return { personId, accountId, username };
}
