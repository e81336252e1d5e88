import { createHash, randomUUID } from 'node:crypto';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { activateAccount } from '../accounts/activate.js';
import { assignAddress, assignUsername, mailboxOnRequest } from '../accounts/mailbox.js';
import { toAccount, toPerson } from '../accounts/repository.js';
import type { Account, Person } from '../accounts/types.js';
import { canLogIn, spidMayUse } from '../domain/account-status.js';
import { AppError } from '../errors/app-error.js';
import { isLocale, type Locale } from '../i18n/index.js';
import type { Tx } from '../flows/kernel/types.js';
import { createSession, sessionIdOf } from '../sessions/sessions.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import { foldName } from '../domain/address-pattern.js';
import { nameKeyColumns } from '../domain/name-key.js';
import type { SpidIdentity } from './response-check.js';
import { accountLocale } from '../accounts/locale.js';

/** What a valid SPID response leads to. */
export type SpidOutcome =
  | { kind: 'session'; accountId: string; token: string; expiresAt: Date; created: boolean }
  | { kind: 'align'; account: Account; person: Person };

/** Names a SPID login (IdP and transient NameID) without storing the NameID itself. */
export const federatedSid = (idp: string, nameId: string): string => createHash('sha256').update(`${idp}\n${nameId}`).digest('base64url');

/** Opens a Tessera session carrying the SPID level as `acr` and the login it came from. */
export async function openSpidSession(ctx: AppContext, tx: Tx, accountId: string, id: Pick<SpidIdentity, 'level' | 'idp' | 'nameId'>, meta: RequestMeta, at: Date) {
  const s = await createSession(tx, accountId, at, ctx.config.login.sessionHours * 3_600_000, { ip: meta.ip, userAgent: meta.userAgent ?? null });
  await tx
    .updateTable('sessions')
    .set({ acr: id.level, federated_sid: federatedSid(id.idp, id.nameId) })
    .where('id', '=', sessionIdOf(s.token))
    .execute();
  return s;
}

/**
 * Signs a linked account in; a language chosen (or asked for) when the person went to SPID is
 * remembered with the account, as a password login remembers it.
 */
async function loginLinked(ctx: AppContext, tx: Tx, account: Pick<Account, 'id' | 'personId' | 'locale'>, id: SpidIdentity, meta: RequestMeta, at: Date, language: Locale | null) {
  await tx.updateTable('spid_identities').set({ last_login_at: at.toISOString(), idp: id.idp }).where('tax_code', '=', id.taxCode).execute();
  if (language && language !== account.locale) await tx.updateTable('accounts').set({ locale: language }).where('id', '=', account.id).execute();
  const s = await openSpidSession(ctx, tx, account.id, id, meta, at);
  await audit(tx, at, {
    actor: `account:${account.id}`,
    action: 'login.succeeded',
    accountId: account.id,
    personId: account.personId,
    ip: meta.ip,
    correlationId: meta.correlationId,
    details: { channel: 'spid', idp: id.idp, level: id.level },
  });
  return s;
}

/**
 * Drops the SPID link of an account (an account has at most one) whose record no longer carries
 * the linked codice fiscale (the registrar corrected it, or the account was purged), audited.
 */
async function dropLink(tx: Tx, accountId: string, personId: string | null, meta: RequestMeta, at: Date): Promise<void> {
  const res = await tx.deleteFrom('spid_identities').where('account_id', '=', accountId).executeTakeFirst();
  if (Number(res.numDeletedRows) > 0) {
    await audit(tx, at, { actor: 'system:spid', action: 'spid.unlinked', accountId, personId, ip: meta.ip, correlationId: meta.correlationId, details: { reason: 'tax_code_changed' } });
  }
}

/** Links `accountId` to this SPID identity, in place of a stale link the account still held. */
export async function link(tx: Tx, accountId: string, personId: string | null, id: Pick<SpidIdentity, 'taxCode' | 'idp'>, at: Date, meta: RequestMeta): Promise<void> {
  await dropLink(tx, accountId, personId, meta, at);
  await tx
    .insertInto('spid_identities')
    .values({ tax_code: id.taxCode, account_id: accountId, idp: id.idp, created_at: at.toISOString(), last_login_at: at.toISOString() })
    .execute();
}

/**
 * Decides and performs what a valid SPID login means for Tessera's records, keyed by the codice
 * fiscale only (never spidCode): a linked account signs in; a record with local credentials and
 * the same codice fiscale goes to the alignment page; a record without credentials is linked and
 * activated; anyone else gets a new active external account at once.
 * Produces `spid.account_unavailable` (a linked or matched account that may not sign in).
 */
export async function resolveSpidLogin(ctx: AppContext, id: SpidIdentity, meta: RequestMeta, language: Locale | null = null): Promise<SpidOutcome> {
  try {
    return await resolveOnce(ctx, id, meta, language);
  } catch (e) {
    // Two first logins of one identity at once (two tabs, a double submit of the IdP's form): the
    // one that lost the race to create or link the account finds it made, and signs in to it.
    if (isUniqueViolation(e)) return resolveOnce(ctx, id, meta, language);
    throw e;
  }
}

async function resolveOnce(ctx: AppContext, id: SpidIdentity, meta: RequestMeta, language: Locale | null): Promise<SpidOutcome> {
  const db = ctx.db.kysely;
  const at = ctx.clock.now();
  return db.transaction().execute(async (tx): Promise<SpidOutcome> => {
    const linked = await tx
      .selectFrom('spid_identities')
      .innerJoin('accounts', 'accounts.id', 'spid_identities.account_id')
      .leftJoin('persons', 'persons.id', 'accounts.person_id')
      .selectAll('accounts')
      .select('persons.tax_code as record_tax_code')
      .where('spid_identities.tax_code', '=', id.taxCode)
      .executeTakeFirst();
    if (linked && (linked.record_tax_code ?? '').toUpperCase() === id.taxCode) {
      const account = toAccount(linked);
      if (!canLogIn(account.status)) throw new AppError('spid.account_unavailable');
      const s = await loginLinked(ctx, tx, account, id, meta, at, language);
      return { kind: 'session', accountId: account.id, token: s.token, expiresAt: s.expiresAt, created: false };
    }
    if (linked) {
      // The record behind the link no longer carries this codice fiscale (the registrar corrected
      // it, or the account was purged): the identity is someone else's now, and is resolved anew.
      await dropLink(tx, linked.id, linked.person_id, meta, at);
    }
    const persons = (await tx.selectFrom('persons').selectAll().where('tax_code', '=', id.taxCode).orderBy('created_at').execute()).map(toPerson);
    // One person may hold several records (a student who is also staff): the account with
    // credentials of its own is aligned; else an account SPID may use is linked, an active one first.
    const candidates: Array<{ account: Account; person: Person }> = [];
    for (const person of persons) {
      const row = await tx.selectFrom('accounts').selectAll().where('person_id', '=', person.id).executeTakeFirst();
      if (row) candidates.push({ account: toAccount(row), person });
    }
    const usable = candidates.filter((c) => spidMayUse(c.account.status));
    const withCredentials = usable.find((c) => c.account.passwordHash && !c.account.federatedOnly);
    if (withCredentials) return { kind: 'align', account: withCredentials.account, person: withCredentials.person };
    const chosen = usable.find((c) => c.account.status === 'active') ?? usable[0];
    if (!chosen && candidates.length) throw new AppError('spid.account_unavailable');
    if (chosen) {
      // A record without credentials of its own: it becomes this SPID identity's account, and is
      // activated as an activation with a password would (its institutional address included).
      const { account, person } = chosen;
      await tx.updateTable('accounts').set({ federated_only: 1, updated_at: at.toISOString() }).where('id', '=', account.id).execute();
      if (account.status !== 'active') {
        await activateAccount(ctx, tx, { account, person, passwordHash: null, method: 'spid', at, meta, details: { idp: id.idp, level: id.level } });
      }
      await link(tx, account.id, person.id, id, at, meta);
      await audit(tx, at, { actor: `account:${account.id}`, action: 'spid.linked', accountId: account.id, personId: person.id, ip: meta.ip, correlationId: meta.correlationId, details: { idp: id.idp, level: id.level } });
      const s = await loginLinked(ctx, tx, account, id, meta, at, language);
      return { kind: 'session', accountId: account.id, token: s.token, expiresAt: s.expiresAt, created: false };
    }
    // A registrar record without an account gives its population; otherwise an external person.
    const record = persons[0];
    const person: Person = record ?? {
      id: randomUUID(),
      population: 'external',
      externalId: id.taxCode,
      givenName: id.givenName ?? '',
      familyName: id.familyName ?? '',
      birthDate: id.birthDate,
      taxCode: id.taxCode,
      amka: null,
      insuranceCountry: null,
      insuranceNumber: null,
      mobile: null,
      personalEmail: id.email,
      registrarStatus: 'active',
      orgUnit: null,
      role: null,
      contractType: null,
      entitlements: [],
      extra: {},
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    if (!record) {
      await tx
        .insertInto('persons')
        .values({
          id: person.id,
          population: person.population,
          external_id: person.externalId,
          given_name: person.givenName,
          family_name: person.familyName,
          ...nameKeyColumns(person.givenName, person.familyName),
          birth_date: person.birthDate,
          tax_code: person.taxCode,
          amka: null,
          insurance_country: null,
          insurance_number: null,
          mobile: null,
          personal_email: person.personalEmail,
          personal_email_lower: person.personalEmail?.toLowerCase() ?? null,
          registrar_status: 'active',
          org_unit: null,
          role: null,
          contract_type: null,
          entitlements: '[]',
          extra: JSON.stringify({ source: 'spid' }),
          source_hash: 'spid',
          created_at: at.toISOString(),
          updated_at: at.toISOString(),
        })
        .execute();
    }
    const accountId = randomUUID();
    // Someone unknown to the registrar: their username is made of their name, never of the
    // codice fiscale (it would reach every service as `preferred_username`, and it tells a birth
    // date, sex and birthplace).
    const username = record
      ? await assignUsername(ctx, tx, person)
      : await assignUsername(ctx, tx, person, undefined, foldName(person.givenName) && foldName(person.familyName) ? '{given}.{family}' : `spid-${randomUUID().slice(0, 8)}`);
    const email = mailboxOnRequest(person.population) ? null : await assignAddress(ctx, tx, person, username);
    await tx
      .insertInto('accounts')
      .values({
        id: accountId,
        person_id: person.id,
        username,
        username_lower: username.toLowerCase(),
        email,
        email_lower: email?.toLowerCase() ?? null,
        status: 'active',
        password_hash: null,
        password_changed_at: null,
        federated_only: 1,
        roles: '[]',
        created_at: at.toISOString(),
        updated_at: at.toISOString(),
        version: 0,
        locale: accountLocale(ctx, language),
      })
      .execute();
    await link(tx, accountId, person.id, id, at, meta);
    await audit(tx, at, {
      actor: `account:${accountId}`,
      action: 'account.created',
      accountId,
      personId: person.id,
      ip: meta.ip,
      correlationId: meta.correlationId,
      details: { via: 'spid', population: person.population, registrarRecord: Boolean(record), idp: id.idp },
    });
    const s = await loginLinked(ctx, tx, { id: accountId, personId: person.id, locale: accountLocale(ctx, language) }, id, meta, at, language);
    return { kind: 'session', accountId, token: s.token, expiresAt: s.expiresAt, created: true };
  });
}
