import type { Kysely } from 'kysely';
import { findAccountByUsername, toAccount } from '../accounts/repository.js';
import type { Account } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors/app-error.js';
import { ancestorsOf, coveredOffices, loadOrgTree } from './tree.js';

export const REFERENT_ROLE = 'referent';

async function setRoles(tx: Kysely<Database>, account: Account, roles: string[], at: Date): Promise<void> {
  await tx
    .updateTable('accounts')
    .set({ roles: JSON.stringify(roles), updated_at: at.toISOString(), version: account.version + 1 })
    .where('id', '=', account.id)
    .execute();
}

/**
 * Names `username` an IT referent of office `code`: the account gets the `referent` role, scoped
 * to that office (and, with `referentScope: subtree`, the offices below it). Naming twice changes nothing.
 * Returns the account's username as stored (however it was typed) and the offices it is a referent of.
 * Produces `org_unit.not_found`, `account.not_found`.
 */
export async function nameReferent(ctx: AppContext, code: string, username: string, how: { actor: string; meta: RequestMeta }): Promise<{ username: string; offices: string[] }> {
  const db = ctx.db.kysely;
  const unit = await db.selectFrom('org_units').select('code').where('code', '=', code).executeTakeFirst();
  if (!unit) throw new AppError('org_unit.not_found');
  const account = await findAccountByUsername(db, username);
  if (!account) throw new AppError('account.not_found');
  const now = ctx.clock.now();
  await db.transaction().execute(async (tx) => {
    const had = await tx.selectFrom('org_unit_referents').select('org_unit').where('org_unit', '=', code).where('account_id', '=', account.id).executeTakeFirst();
    if (had) return;
    await tx.insertInto('org_unit_referents').values({ org_unit: code, account_id: account.id, created_at: now.toISOString() }).execute();
    if (!account.roles.includes(REFERENT_ROLE)) await setRoles(tx, account, [...account.roles, REFERENT_ROLE], now);
    await audit(tx, now, {
      actor: how.actor,
      action: 'referent.named',
      accountId: account.id,
      personId: account.personId,
      ip: how.meta.ip,
      correlationId: how.meta.correlationId,
      details: { orgUnit: code },
    });
  });
  return { username: account.username, offices: await namedOffices(db, account.id) };
}

/**
 * Removes `username` as referent of office `code`; the role goes when no office is left. Removing
 * someone who is not (or no longer) a referent of the office changes nothing, as naming twice does.
 * Produces `org_unit.not_found`, `account.not_found`.
 */
export async function removeReferent(ctx: AppContext, code: string, username: string, how: { actor: string; meta: RequestMeta }): Promise<void> {
  const db = ctx.db.kysely;
  const account = await findAccountByUsername(db, username);
  if (!account) throw new AppError('account.not_found');
  const now = ctx.clock.now();
  await db.transaction().execute(async (tx) => {
    const res = await tx.deleteFrom('org_unit_referents').where('org_unit', '=', code).where('account_id', '=', account.id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) {
      const unit = await tx.selectFrom('org_units').select('code').where('code', '=', code).executeTakeFirst();
      if (!unit) throw new AppError('org_unit.not_found');
      return;
    }
    const left = await tx.selectFrom('org_unit_referents').select('org_unit').where('account_id', '=', account.id).executeTakeFirst();
    if (!left) await setRoles(tx, account, account.roles.filter((r) => r !== REFERENT_ROLE), now);
    await audit(tx, now, {
      actor: how.actor,
      action: 'referent.removed',
      accountId: account.id,
      personId: account.personId,
      ip: how.meta.ip,
      correlationId: how.meta.correlationId,
      details: { orgUnit: code },
    });
  });
}

/** The offices an account was named referent of. */
export async function namedOffices(db: Kysely<Database>, accountId: string): Promise<string[]> {
  const rows = await db.selectFrom('org_unit_referents').select('org_unit').where('account_id', '=', accountId).orderBy('org_unit').execute();
  return rows.map((r) => r.org_unit);
}

/** Every office whose requests an account may see and decide: none unless it holds the referent role. */
export async function officesCoveredBy(ctx: AppContext, account: Account): Promise<Set<string>> {
  if (!account.roles.includes(REFERENT_ROLE)) return new Set();
  const named = await namedOffices(ctx.db.kysely, account.id);
  if (named.length === 0) return new Set();
  return coveredOffices(await loadOrgTree(ctx.db.kysely), named, ctx.config.mailboxes.referentScope);
}

/** The active referent accounts responsible for an office (in `subtree` mode, also those of offices above it). */
export async function referentsOf(ctx: AppContext, db: Kysely<Database>, code: string): Promise<Account[]> {
  const offices = ctx.config.mailboxes.referentScope === 'subtree' ? ancestorsOf(await loadOrgTree(db), code) : [code];
  const rows = await db
    .selectFrom('org_unit_referents')
    .innerJoin('accounts', 'accounts.id', 'org_unit_referents.account_id')
    .selectAll('accounts')
    .where('org_unit_referents.org_unit', 'in', offices)
    .where('accounts.status', '=', 'active')
    .execute();
  const seen = new Set<string>();
  return rows.map(toAccount).filter((a) => a.roles.includes(REFERENT_ROLE) && !seen.has(a.id) && seen.add(a.id));
}
