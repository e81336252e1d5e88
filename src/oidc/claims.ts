import type { Client, Account as OidcAccount } from 'oidc-provider';
import type { Person } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { preparedQuery } from '../db/prepared.js';
import { admits } from './services.js';
import { canLogIn, type AccountStatus } from '../domain/account-status.js';
import { isLive, sessionIdOfToken } from '../sessions/sessions.js';

/** Which claims each scope releases; `institution` carries the population and affiliations. */
export const scopeClaims = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  email: ['email', 'email_verified'],
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

/**
 * Whether an account's address is verified, from what is stored (`email_verified`). Every way an
 * address reaches `accounts.email` either assigns the institutional one Tessera gives out
 * (activation and SPID from the population's pattern, mailboxes opened by a referent or the
 * school-mailbox job) or stores one proven by an emailed link (self-registration, whose account
 * becomes active only through it; the email change, stored only when its link is opened). The one
 * stored before its proof is a self-registration's while its link waits (`registrations.verified_at`
 * empty): false for it, whatever status the account has come to since. Imports and the
 * administration never write the address.
 */
export function emailVerified(account: { email: string | null }, registration: { exists: boolean; verifiedAt: string | null }): boolean {
  return account.email !== null && (!registration.exists || registration.verifiedAt !== null);
}

/** The claims of an account, from its record; `email_verified` goes with `email` (emailVerified). */
export function claimsOf(
  account: { id: string; username: string; email: string | null; emailVerified?: boolean },
  person: Pick<Person, 'population' | 'givenName' | 'familyName' | 'role'> | null,
) {
  return {
    sub: account.id,
    preferred_username: account.username,
    ...(account.email ? { email: account.email, email_verified: account.emailVerified === true } : {}),
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

// One query for the account and its person, compiled once: this runs on every userinfo call.
const accountWithPerson = preparedQuery((db, id: string) =>
  db
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .leftJoin('registrations', 'registrations.account_id', 'accounts.id')
    .select([
      'accounts.id',
      'accounts.username',
      'accounts.email',
      'accounts.status',
      'registrations.account_id as registration',
      'registrations.verified_at',
      'persons.population',
      'persons.given_name',
      'persons.family_name',
      'persons.role',
    ])
    .where('accounts.id', '=', id),
);

/** An active account as the provider sees it, with its person's population (null without a person record). */
export async function loadOidcAccount(ctx: AppContext, sub: string): Promise<{ account: OidcAccount; population: string | null } | undefined> {
  const row = await accountWithPerson.first(ctx.db.kysely, sub);
  if (!row || !canLogIn(row.status as AccountStatus)) return undefined;
  const claims = claimsOf(
    { ...row, emailVerified: emailVerified(row, { exists: row.registration !== null, verifiedAt: row.verified_at }) },
    row.population !== null ? { population: row.population, givenName: row.given_name ?? '', familyName: row.family_name ?? '', role: row.role } : null,
  );
  return { account: { accountId: row.id, claims: async () => claims }, population: row.population };
}

/**
 * The provider's `findAccount`: only an active account is found (a suspended one's tokens stop
 * working). With `client` (the service asking), only an account of a population it admits: the
 * service's populations hold at every refresh and userinfo call, not only at sign-in, however the
 * account came to be of another population. Token introspection asks it too, with the service
 * the token was issued to (tokenStillAdmitted in provider.ts).
 */
export async function findOidcAccount(ctx: AppContext, sub: string, client?: Client): Promise<OidcAccount | undefined> {
  const found = await loadOidcAccount(ctx, sub);
  if (!found || (client && !admits(client, found.population))) return undefined;
  return found.account;
}

/** The population of an account (null without a person record). */
export async function populationOf(ctx: AppContext, accountId: string): Promise<string | null> {
  const row = await ctx.db.kysely
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .select('persons.population')
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  return row?.population ?? null;
}

/** A live Tessera session with its account: whether the account may sign in, and its population. */
export interface SessionAccount {
  sessionId: string;
  accountId: string;
  active: boolean;
  population: string | null;
  /** When the person authenticated (the Tessera session began), on Tessera's clock. */
  authenticatedAt: Date;
}

const liveSessionAccount = preparedQuery((db, sessionId: string) =>
  db
    .selectFrom('sessions')
    .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .select(['sessions.id', 'sessions.account_id', 'sessions.created_at', 'sessions.expires_at', 'accounts.status', 'persons.population'])
    .where('sessions.id', '=', sessionId)
    .where('sessions.revoked_at', 'is', null),
);

/**
 * The live Tessera session of a session token, its account and that account's population, in
 * one query (every authorization and every login interaction asks all three).
 */
export async function sessionAccount(ctx: AppContext, token: string): Promise<SessionAccount | null> {
  const id = sessionIdOfToken(token);
  if (!id) return null;
  const row = await liveSessionAccount.first(ctx.db.kysely, id);
  if (!row || !isLive(row, ctx.clock.now())) return null;
  return {
    sessionId: row.id,
    accountId: row.account_id,
    active: canLogIn(row.status as AccountStatus),
    population: row.population ?? null,
    authenticatedAt: new Date(row.created_at),
  };
}
