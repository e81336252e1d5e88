import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import { populationIds } from '../config/institution-schema.js';
import type { Database } from '../db/schema.js';
import { parseAmka } from '../domain/amka.js';
import { normaliseCodiceFiscale } from '../domain/codice-fiscale.js';
import { nameSearchKey } from '../domain/name-key.js';
import { toE164 } from '../domain/phone.js';

/** What a search term matched: the helpdesk sees why each account is listed. */
export type MatchedBy = 'username' | 'email' | 'personal_email' | 'external_id' | 'tax_code' | 'amka' | 'mobile' | 'name';

export interface FoundAccount {
  /** Null for a registrar record that has no account (yet). */
  username: string | null;
  status: string | null;
  email: string | null;
  population: string | null;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  matchedBy: MatchedBy[];
}

type Db = Kysely<Database>;

/**
 * The helpdesk's search: the accounts (and registrar records) that what a caller can tell names
 * exactly — a username, an institutional or personal address, a matricola or other registrar
 * id, a codice fiscale, an AMKA, a phone number in any common notation — or whose name starts
 * with the term (family name, "family given" or "given family", without regard to case or
 * accents: domain/name-key.ts), from 3 letters on. Every term is tried as each kind it can be,
 * and each kind is one indexed lookup (for a name, a range of an index) reading `limit` rows at
 * most, so a search never lists the population. At most `limit`, ordered by username; the exact matches
 * first, so that the many people a name may match never push out the one the term names.
 */
export async function findAccounts(ctx: AppContext, term: string, limit: number): Promise<FoundAccount[]> {
  const db = ctx.db.kysely;
  const q = term.trim();
  const lower = q.toLowerCase();
  // Account ids and person ids found, each with what matched it.
  const byAccount = new Map<string, Set<MatchedBy>>();
  const byPerson = new Map<string, Set<MatchedBy>>();
  const note = (m: Map<string, Set<MatchedBy>>, id: string, how: MatchedBy) => (m.get(id) ?? m.set(id, new Set()).get(id)!).add(how);

  for (const r of await db.selectFrom('accounts').select('id').where('username_lower', '=', lower).limit(1).execute()) note(byAccount, r.id, 'username');
  if (q.includes('@')) {
    for (const r of await db.selectFrom('accounts').select('id').where('email_lower', '=', lower).limit(1).execute()) note(byAccount, r.id, 'email');
    for (const r of await personsWhere(db, 'personal_email_lower', lower, limit)) note(byPerson, r.id, 'personal_email');
  }
  // The registrar's ids are unique per population: one lookup per population, on its index.
  const ext = await db.selectFrom('persons').select('id').where('population', 'in', [...populationIds]).where('external_id', '=', q).limit(limit).execute();
  for (const r of ext) note(byPerson, r.id, 'external_id');
  const cf = normaliseCodiceFiscale(q);
  if (cf) for (const r of await personsWhere(db, 'tax_code', cf, limit)) note(byPerson, r.id, 'tax_code');
  const amka = parseAmka(q);
  if (amka) for (const r of await personsWhere(db, 'amka', amka, limit)) note(byPerson, r.id, 'amka');
  const mobile = /\d{6}/.test(q.replace(/\D/g, '')) ? toE164(q, ctx.config.institution.defaultCountry) : null;
  if (mobile) for (const r of await personsWhere(db, 'mobile', mobile, limit)) note(byPerson, r.id, 'mobile');
  const name = nameSearchKey(q);
  if (name) for (const column of nameKeyColumnNames) for (const r of await personsByName(db, column, name, limit).execute()) note(byPerson, r.id, 'name');

  const found: FoundAccount[] = [];
  const seenPersons = new Set<string>();
  if (byAccount.size > 0) {
    const rows = await selectFound(db).where('accounts.id', 'in', [...byAccount.keys()]).execute();
    for (const r of rows) {
      const how = new Set(byAccount.get(r.accountId!)!);
      if (r.personId) {
        for (const h of byPerson.get(r.personId) ?? []) how.add(h);
        seenPersons.add(r.personId);
      }
      found.push(view(r, how));
    }
  }
  const persons = [...byPerson.keys()].filter((id) => !seenPersons.has(id));
  if (persons.length > 0) {
    const rows = await db
      .selectFrom('persons')
      .leftJoin('accounts', 'accounts.person_id', 'persons.id')
      .select(foundColumns)
      .where('persons.id', 'in', persons)
      .execute();
    for (const r of rows) found.push(view(r, byPerson.get(r.personId!)!));
  }
  const order: MatchedBy[] = ['username', 'email', 'personal_email', 'external_id', 'tax_code', 'amka', 'mobile', 'name'];
  for (const f of found) f.matchedBy.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const byNameOnly = (f: FoundAccount) => (f.matchedBy.length === 1 && f.matchedBy[0] === 'name' ? 1 : 0);
  return found
    .sort((a, b) => byNameOnly(a) - byNameOnly(b) || (a.username ?? '\uffff').localeCompare(b.username ?? '\uffff') || (a.externalId ?? '').localeCompare(b.externalId ?? ''))
    .slice(0, limit);
}

/**
 * The least string greater than every string that starts with `prefix`: its last character
 * followed by the next code point (skipping the surrogates, which are no characters). Not
 * `prefix + '\uffff'`: characters beyond U+FFFF (some CJK, some scripts' letters) sort above it.
 */
export function prefixEnd(prefix: string): string {
  const chars = [...prefix];
  const next = chars.pop()!.codePointAt(0)! + 1;
  return chars.join('') + String.fromCodePoint(next >= 0xd800 && next <= 0xdfff ? 0xe000 : next);
}

const nameKeyColumnNames = ['name_key_family_first', 'name_key_given_first'] as const;

/**
 * The people whose name key starts with `key`: the keys from it up to (not including) the string
 * right after its last character, a range both databases read from the column's index, as both
 * compare these columns by code point (COLLATE "C" in PostgreSQL: migration 0017).
 */
export const personsByName = (db: Db, column: (typeof nameKeyColumnNames)[number], key: string, limit: number) =>
  db.selectFrom('persons').select('id').where(column, '>=', key).where(column, '<', prefixEnd(key)).orderBy(column).limit(limit);

const personsWhere = (db: Db, column: 'personal_email_lower' | 'tax_code' | 'amka' | 'mobile', value: string, limit: number) =>
  db.selectFrom('persons').select('id').where(column, '=', value).limit(limit).execute();

const foundColumns = [
  'accounts.id as accountId',
  'accounts.username',
  'accounts.status',
  'accounts.email',
  'persons.id as personId',
  'persons.population',
  'persons.external_id as externalId',
  'persons.given_name as givenName',
  'persons.family_name as familyName',
] as const;

const selectFound = (db: Db) => db.selectFrom('accounts').leftJoin('persons', 'persons.id', 'accounts.person_id').select(foundColumns);

type FoundRow = { username: string | null; status: string | null; email: string | null; population: string | null; externalId: string | null; givenName: string | null; familyName: string | null };

function view(r: FoundRow, how: Set<MatchedBy>): FoundAccount {
  return {
    username: r.username,
    status: r.status,
    email: r.email,
    population: r.population,
    externalId: r.externalId,
    givenName: r.givenName,
    familyName: r.familyName,
    matchedBy: [...how],
  };
}
