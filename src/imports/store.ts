import type { Insertable } from 'kysely';
import { ConcurrentChangeError, registrarSuspension, transitionAccount } from '../accounts/lifecycle.js';
import { assignUsername, nameLock } from '../accounts/mailbox.js';
import { lockKeys } from '../db/lock-key.js';
import type { AppContext } from '../app/context.js';
import { auditMany, type AuditEntry, type RequestMeta } from '../audit/audit.js';
import type { PopulationId } from '../config/institution-schema.js';
import { bulkInsert } from '../db/bulk-insert.js';
import { timeOrderedId } from '../db/ids.js';
import type { AccountTable, PersonTable } from '../db/schema.js';
import { canTransition, registrarReason, statusForRegistrar, type AccountStatus } from '../domain/account-status.js';
import { renderPattern } from '../domain/address-pattern.js';
import { nameKeyColumns } from '../domain/name-key.js';
import type { Tx } from '../flows/kernel/types.js';
import type { ImportRecord } from './record.js';
import { moveRequestsWithPerson } from '../mailboxes/requests.js';
import { anyPurgedRecord, findPurgedRecords, forgetPurgedRecords, purgedRecordKey } from '../accounts/purged-records.js';

/** A valid record of the file with its row number and source hash. */
export interface BatchItem {
  row: number;
  record: ImportRecord;
  hash: string;
  /** Completed from the stored person (the row left fields out): equal stored columns also mean unchanged. */
  partial?: boolean;
  /** The marker of a purged record this row brings back (the person is created anew; the marker goes). */
  revives?: string;
}

export interface Existing {
  person: PersonTable;
  account: { id: string; status: AccountStatus; version: number; password_hash: string | null; password_changed_at: string | null } | null;
}

/** Ids of imported people and accounts are time-ordered (db/ids.ts). */
const newId = timeOrderedId;

const notYetActivated: readonly AccountStatus[] = ['provisional', 'pending_activation', 'expired'];

export type Outcome = 'created' | 'updated' | 'unchanged';

const personInsertColumns = [
  'id', 'population', 'external_id', 'given_name', 'family_name', 'name_key_family_first', 'name_key_given_first',
  'birth_date', 'tax_code', 'amka', 'insurance_country', 'insurance_number', 'mobile', 'personal_email', 'personal_email_lower',
  'registrar_status', 'org_unit', 'role', 'contract_type', 'entitlements', 'extra', 'source_hash', 'created_at', 'updated_at',
] as const satisfies ReadonlyArray<keyof PersonTable>;

const accountInsertColumns = [
  'id', 'person_id', 'username', 'username_lower', 'email', 'email_lower', 'status', 'password_hash',
  'password_changed_at', 'federated_only', 'roles', 'created_at', 'updated_at', 'version',
] as const satisfies ReadonlyArray<keyof AccountTable>;

/** The person columns of a record (everything but ids and timestamps). */
function personColumns(r: ImportRecord, hash: string) {
  return {
    population: r.population,
    external_id: r.externalId,
    given_name: r.givenName,
    family_name: r.familyName,
    ...nameKeyColumns(r.givenName, r.familyName),
    birth_date: r.birthDate,
    tax_code: r.taxCode,
    amka: r.amka,
    insurance_country: r.insuranceCountry,
    insurance_number: r.insuranceNumber,
    mobile: r.mobile,
    personal_email: r.personalEmail,
    personal_email_lower: r.personalEmail?.toLowerCase() ?? null,
    registrar_status: r.status,
    org_unit: r.orgUnit,
    role: r.role,
    contract_type: r.contractType,
    entitlements: JSON.stringify(r.entitlements),
    extra: JSON.stringify(r.extra),
    source_hash: hash,
  };
}

/** The stored people (with their accounts) that the batch's records name, keyed population + externalId. */
export async function findExisting(db: Tx, items: BatchItem[]): Promise<Map<string, Existing>> {
  const out = new Map<string, Existing>();
  const byPop = new Map<string, string[]>();
  for (const it of items) {
    const list = byPop.get(it.record.population) ?? [];
    list.push(it.record.externalId);
    byPop.set(it.record.population, list);
  }
  for (const [population, ids] of byPop) {
    const persons = await db.selectFrom('persons').selectAll().where('population', '=', population).where('external_id', 'in', ids).execute();
    if (persons.length === 0) continue;
    const accounts = await db
      .selectFrom('accounts')
      .select(['id', 'person_id', 'status', 'version', 'password_hash', 'password_changed_at'])
      .where('person_id', 'in', persons.map((p) => p.id))
      .execute();
    const accountOf = new Map(accounts.map((a) => [a.person_id, a]));
    for (const p of persons) {
      const a = accountOf.get(p.id);
      out.set(`${population}\u0000${p.external_id}`, {
        person: p,
        account: a ? { id: a.id, status: a.status as AccountStatus, version: a.version, password_hash: a.password_hash, password_changed_at: a.password_changed_at } : null,
      });
    }
  }
  return out;
}

export const keyOf = (r: ImportRecord) => `${r.population}\u0000${r.externalId}`;

/**
 * Of the batch's records that have no stored person (`existing` from findExisting), those Tessera
 * purged: their marker keys by keyOf. One lookup by key for the batch; none when every record is
 * stored, and no hashing while no record was ever purged (a first load of the registrar's file).
 * Asked after findExisting, so that the marker of a person a purge removed before the batch read
 * its people is seen here.
 */
export async function findPurged(ctx: AppContext, db: Tx, items: BatchItem[], existing: Map<string, Existing>): Promise<Map<string, string>> {
  const fresh = items.filter((it) => !existing.has(keyOf(it.record)));
  if (fresh.length === 0 || !(await anyPurgedRecord(db))) return new Map();
  const keys = new Map(fresh.map((it) => [keyOf(it.record), purgedRecordKey(ctx, it.record.population, it.record.externalId)]));
  const marked = await findPurgedRecords(db, ctx.db.dialect, [...keys.values()]);
  return new Map([...keys].filter(([, marker]) => marked.has(marker)));
}

/**
 * What importing `item` would do, given what is stored. A partial row (completed from the stored
 * person) is also unchanged when every column it would write is the one stored and it gives no
 * initial password: the stored hash may be of a row that gave fields this one leaves out.
 */
export function classify(item: BatchItem, existing: Existing | undefined): Outcome {
  if (!existing) return 'created';
  if (existing.account === null) return 'updated';
  if (existing.person.source_hash === item.hash) return 'unchanged';
  if (item.partial && item.record.initialPasswordHash === null && changedColumns(personColumns(item.record, item.hash), existing.person).length === 0) return 'unchanged';
  return 'updated';
}

/** Columns that follow from the others (the record's hash, the lower-cased address, the name keys): never a change of their own. */
const derivedColumns: ReadonlySet<string> = new Set(['source_hash', 'personal_email_lower', 'name_key_family_first', 'name_key_given_first']);

/** The person columns whose value differs from the stored one (the hash and derived columns aside). */
function changedColumns(cols: ReturnType<typeof personColumns>, stored: PersonTable): string[] {
  return Object.entries(cols)
    .filter(([k, v]) => !derivedColumns.has(k) && (stored as unknown as Record<string, unknown>)[k] !== v)
    .map(([k]) => k);
}

interface WriteOptions {
  actor: string;
  meta?: RequestMeta | undefined;
  at: Date;
}

/**
 * New accounts for `persons` inside `tx`: usernames from the population's pattern (the common case,
 * a free username, checked for the whole batch with one query; collisions go through
 * assignUsername), status from the registrar status, the initial password hash as given.
 */
async function newAccounts(ctx: AppContext, tx: Tx, persons: Array<{ id: string; record: ImportRecord }>, at: string): Promise<Array<Insertable<AccountTable>>> {
  const bases = persons.map(({ record: r }) =>
    renderPattern(ctx.config.populations[r.population as PopulationId]?.username ?? '{externalId}', {
      externalId: r.externalId,
      givenName: r.givenName,
      familyName: r.familyName,
      domain: ctx.config.institution.domain,
    }),
  );
  const lowered = [...new Set(bases.map((b) => b.toLowerCase()))];
  // Another transaction giving out the same names at once (an import of another population with
  // the same pattern, a first SPID login) waits until this batch is stored, then sees them taken.
  await lockKeys(tx, ctx.db.dialect, lowered.map(nameLock));
  const taken = new Set<string>();
  for (let i = 0; i < lowered.length; i += 500) {
    const rows = await tx.selectFrom('accounts').select('username_lower').where('username_lower', 'in', lowered.slice(i, i + 500)).execute();
    for (const r of rows) taken.add(r.username_lower);
  }
  const reserved = new Set<string>();
  const out: Array<Insertable<AccountTable>> = [];
  for (let i = 0; i < persons.length; i++) {
    const { id, record } = persons[i]!;
    const base = bases[i]!;
    const username = !taken.has(base.toLowerCase()) && !reserved.has(base.toLowerCase()) ? base : await assignUsername(ctx, tx, record, reserved);
    reserved.add(username.toLowerCase());
    out.push({
      id: newId(),
      person_id: id,
      username,
      username_lower: username.toLowerCase(),
      email: null,
      email_lower: null,
      status: statusForRegistrar(null, record.status) ?? 'provisional',
      password_hash: record.initialPasswordHash,
      password_changed_at: null,
      federated_only: 0,
      roles: '[]',
      created_at: at,
      updated_at: at,
      version: 0,
    });
  }
  return out;
}

/** A row as values in the order of `columns`. */
const valuesOf = <R extends Record<string, unknown>>(row: R, columns: ReadonlyArray<keyof R>) =>
  columns.map((c) => (row[c] ?? null) as string | number | null);

/**
 * Writes one batch inside `tx`: inserts the new people and their accounts with multi-row
 * statements, updates the changed ones (moving their accounts through the lifecycle, audited by
 * transitionAccount), and appends one audit entry per created or updated person.
 */
export async function writeBatch(
  ctx: AppContext,
  tx: Tx,
  items: Array<{ item: BatchItem; outcome: Outcome; existing: Existing | undefined }>,
  how: WriteOptions,
): Promise<void> {
  const at = how.at.toISOString();
  const entries: AuditEntry[] = [];
  const base = { actor: how.actor, ip: how.meta?.ip ?? null, correlationId: how.meta?.correlationId ?? null };

  const created = items.filter((x) => x.outcome === 'created');
  const personRows = created.map(({ item }) => ({ id: newId(), ...personColumns(item.record, item.hash), created_at: at, updated_at: at }));
  await bulkInsert(tx, ctx.db.dialect, 'persons', personInsertColumns, personRows.map((r) => valuesOf(r, personInsertColumns)));
  // Purged records the registrar enrolled again are records like any other from now on.
  await forgetPurgedRecords(tx, ctx.db.dialect, created.flatMap(({ item }) => (item.revives ? [item.revives] : [])));
  const needAccount = [
    ...created.map(({ item }, i) => ({ id: personRows[i]!.id, record: item.record })),
    ...items.filter((x) => x.outcome === 'updated' && x.existing && !x.existing.account).map((x) => ({ id: x.existing!.person.id, record: x.item.record })),
  ];
  const accountRows = await newAccounts(ctx, tx, needAccount, at);
  await bulkInsert(tx, ctx.db.dialect, 'accounts', accountInsertColumns, accountRows.map((r) => valuesOf(r, accountInsertColumns)));
  const accountOf = new Map(accountRows.map((a) => [a.person_id, a]));
  for (let i = 0; i < created.length; i++) {
    const { record: r, revives } = created[i]!.item;
    const acc = accountOf.get(personRows[i]!.id)!;
    entries.push({
      ...base,
      action: 'person.created',
      personId: personRows[i]!.id,
      accountId: acc.id,
      details: { population: r.population, externalId: r.externalId, registrarStatus: r.status, username: acc.username, accountStatus: acc.status, ...(revives ? { purgedBefore: true } : {}) },
    });
  }

  for (const { item, outcome, existing } of items) {
    if (outcome !== 'updated' || !existing) continue;
    const r = item.record;
    const cols = personColumns(r, item.hash);
    const changed = changedColumns(cols, existing.person);
    await tx.updateTable('persons').set({ ...cols, updated_at: at }).where('id', '=', existing.person.id).execute();
    const acc = existing.account;
    if (acc) {
      let version = acc.version;
      // An initial password the person has not yet replaced (never activated) follows the registrar's.
      const unused = acc.password_changed_at === null && notYetActivated.includes(acc.status);
      if (r.initialPasswordHash && unused && acc.password_hash !== r.initialPasswordHash) {
        const res = await tx
          .updateTable('accounts')
          .set({ password_hash: r.initialPasswordHash, updated_at: at, version: version + 1 })
          .where('id', '=', acc.id)
          .where('version', '=', version)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw new ConcurrentChangeError(acc.id);
        version++;
        changed.push('initial_password');
      }
      // A suspension the registrar's record caused (it ceased or was suspended) ends when the record
      // is enrolled again; the audit entry of the suspension tells its cause and the status before.
      const resumes = acc.status === 'suspended' && (r.status === 'enrolled' || r.status === 'active') ? await registrarSuspension(tx, acc.id) : null;
      const to = statusForRegistrar(acc.status, r.status, resumes);
      if (to && to !== acc.status && canTransition(acc.status, to)) {
        await transitionAccount(tx, { id: acc.id, personId: existing.person.id, status: acc.status, version }, to, {
          actor: how.actor,
          reason: registrarReason(existing.person.registrar_status, r.status),
          at: how.at,
          meta: how.meta,
          provisioning: ctx,
        });
      }
    }
    if (changed.includes('org_unit')) {
      await moveRequestsWithPerson(ctx, tx, { id: existing.person.id, givenName: r.givenName, familyName: r.familyName }, r.orgUnit, { actor: how.actor, at: how.at, meta: how.meta });
    }
    entries.push({
      ...base,
      action: 'person.updated',
      personId: existing.person.id,
      accountId: acc?.id ?? accountOf.get(existing.person.id)?.id ?? null,
      details: { population: r.population, externalId: r.externalId, fields: changed, registrarStatus: r.status },
    });
  }
  await auditMany(tx, ctx.db.dialect, how.at, entries);
}
