import type { Account as OidcAccount } from 'oidc-provider';
import { findAccountById, findPerson } from '../accounts/repository.js';
import type { Person } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { canLogIn, type AccountStatus } from '../domain/account-status.js';
import { resolveSession } from '../sessions/sessions.js';

/** Which claims each scope releases; `institution` carries the population and affiliations. */
export const scopeClaims = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  email: ['email'],
  institution: ['population', 'eduperson_affiliation'],
};

/**
 * eduPersonAffiliation values (the research-and-education vocabulary) of a population. Staff
 * with a teaching role are faculty as well.
 */
export function affiliationsOf(population: string, role: string | null): string[] {
  switch (population) {
    case 'student':
      return ['student', 'member'];
    case 'staff':
    case 'school_staff':
      return role && /teach|docen|faculty|professor/i.test(role) ? ['faculty', 'staff', 'member'] : ['staff', 'member'];
    default:
      return ['affiliate'];
  }
}

/** The claims of an account, from its record. */
export function claimsOf(
  account: { id: string; username: string; email: string | null },
  person: Pick<Person, 'population' | 'givenName' | 'familyName' | 'role'> | null,
) {
  return {
    sub: account.id,
    preferred_username: account.username,
    ...(account.email ? { email: account.email } : {}),
    ...(person
      ? {
          name: `${person.givenName} ${person.familyName}`,
          given_name: person.givenName,
          family_name: person.familyName,
          population: person.population,
          eduperson_affiliation: affiliationsOf(person.population, person.role),
        }
      : {}),
  };
}

/** The provider's `findAccount`: only an active account is found (a suspended one's tokens stop working). */
export async function findOidcAccount(ctx: AppContext, sub: string): Promise<OidcAccount | undefined> {
  // One query for the account and its person: this runs on every userinfo call.
  const row = await ctx.db.kysely
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .select([
      'accounts.id',
      'accounts.username',
      'accounts.email',
      'accounts.status',
      'persons.population',
      'persons.given_name',
      'persons.family_name',
      'persons.role',
    ])
    .where('accounts.id', '=', sub)
    .executeTakeFirst();
  if (!row || !canLogIn(row.status as AccountStatus)) return undefined;
  const claims = claimsOf(
    row,
    row.population !== null ? { population: row.population, givenName: row.given_name ?? '', familyName: row.family_name ?? '', role: row.role } : null,
  );
  return { accountId: row.id, claims: async () => claims };
}

/** The population of an account (null without a person record). */
export async function populationOf(ctx: AppContext, accountId: string): Promise<string | null> {
  const account = await findAccountById(ctx.db.kysely, accountId);
  if (!account?.personId) return null;
  return (await findPerson(ctx.db.kysely, account.personId))?.population ?? null;
}

/**
 * The account of a live Tessera session, only while the account may sign in: a suspended or
 * locked account's session opens no service even before its sessions are ended.
 */
export async function activeAccountOfSession(ctx: AppContext, token: string): Promise<string | null> {
  const s = await resolveSession(ctx.db.kysely, token, ctx.clock.now());
  if (!s) return null;
  const row = await ctx.db.kysely.selectFrom('accounts').select('status').where('id', '=', s.accountId).executeTakeFirst();
  return row && canLogIn(row.status as AccountStatus) ? s.accountId : null;
}
