import type { Kysely, Selectable } from 'kysely';
import { preparedQuery } from '../db/prepared.js';
import type { AccountTable, Database, PersonTable } from '../db/schema.js';
import type { AccountStatus } from '../domain/account-status.js';
import { isLocale } from '../i18n/index.js';
import type { Account, Person } from './types.js';

type Db = Kysely<Database>;

export function toAccount(r: Selectable<AccountTable>): Account {
  return {
    id: r.id,
    personId: r.person_id,
    username: r.username,
    email: r.email,
    status: r.status as AccountStatus,
    passwordHash: r.password_hash,
    passwordChangedAt: r.password_changed_at,
    federatedOnly: r.federated_only === 1,
    roles: JSON.parse(r.roles) as string[],
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    locale: isLocale(r.locale) ? r.locale : null,
  };
}

export function toPerson(r: Selectable<PersonTable>): Person {
  return {
    id: r.id,
    population: r.population,
    externalId: r.external_id,
    givenName: r.given_name,
    familyName: r.family_name,
    birthDate: r.birth_date,
    taxCode: r.tax_code,
    amka: r.amka,
    insuranceCountry: r.insurance_country,
    insuranceNumber: r.insurance_number,
    mobile: r.mobile,
    personalEmail: r.personal_email,
    registrarStatus: r.registrar_status,
    orgUnit: r.org_unit,
    role: r.role,
    contractType: r.contract_type,
    entitlements: JSON.parse(r.entitlements) as string[],
    extra: JSON.parse(r.extra) as Record<string, unknown>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Usernames match case-insensitively: lookups go through the lowercased column. */
const accountByUsername = preparedQuery((db, lower: string) => db.selectFrom('accounts').selectAll().where('username_lower', '=', lower));
export async function findAccountByUsername(db: Db, username: string): Promise<Account | null> {
  const r = await accountByUsername.first(db, username.trim().toLowerCase());
  return r ? toAccount(r) : null;
}

const accountById = preparedQuery((db, id: string) => db.selectFrom('accounts').selectAll().where('id', '=', id));
export async function findAccountById(db: Db, id: string): Promise<Account | null> {
  const r = await accountById.first(db, id);
  return r ? toAccount(r) : null;
}

export async function findAccountByPerson(db: Db, personId: string): Promise<Account | null> {
  const r = await db.selectFrom('accounts').selectAll().where('person_id', '=', personId).executeTakeFirst();
  return r ? toAccount(r) : null;
}

const personById = preparedQuery((db, id: string) => db.selectFrom('persons').selectAll().where('id', '=', id));
export async function findPerson(db: Db, id: string): Promise<Person | null> {
  const r = await personById.first(db, id);
  return r ? toPerson(r) : null;
}

export async function findPersonByExternalId(db: Db, population: string, externalId: string): Promise<Person | null> {
  const r = await db
    .selectFrom('persons')
    .selectAll()
    .where('population', '=', population)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return r ? toPerson(r) : null;
}

/** True when an account already uses this lowercased username or institutional address. */
const holderOfAddress = preparedQuery((db, lowered: string) =>
  db
    .selectFrom('accounts')
    .select('id')
    .where((eb) => eb.or([eb('email_lower', '=', lowered), eb('username_lower', '=', lowered)])),
);
export async function isAddressTaken(db: Db, lowered: string): Promise<boolean> {
  return (await holderOfAddress.first(db, lowered)) !== undefined;
}

export async function isUsernameTaken(db: Db, lowered: string): Promise<boolean> {
  const r = await db.selectFrom('accounts').select('id').where('username_lower', '=', lowered).executeTakeFirst();
  return r !== undefined;
}
