import { sql, type Insertable, type Kysely } from 'kysely';
import type { Actor } from '../audit/audit.js';
import type { Dialect } from '../db/connect.js';
import type { AuditTable, Database } from '../db/schema.js';
import { canTransition, type AccountStatus } from '../domain/account-status.js';
import type { AppContext } from '../app/context.js';
import { enqueueAccountProvisioning } from '../provisioning/enqueue.js';
import { targetSpecs } from '../provisioning/targets.js';

export interface PurgedAccount {
  id: string;
  username: string;
}

/** The lifecycle steps from `from` to purged: direct when allowed, else through `expired`. */
export function purgePath(from: AccountStatus): AccountStatus[] | null {
  if (from === 'purged') return null;
  if (canTransition(from, 'purged')) return ['purged'];
  if (canTransition(from, 'expired') && canTransition('expired', 'purged')) return ['expired', 'purged'];
  return null;
}

/** Rows per statement: short statements keep the event loop responsive on SQLite. */
const CHUNK = 250;

const chunk = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/**
 * Purges a batch of accounts inside `tx`, set-based so that a job can purge a million accounts in
 * a few seconds: each account moves to `purged` through the lifecycle (one audit entry per account,
 * as transitionAccount writes it, naming the intermediate steps), its personal data goes (person row, sessions, flows,
 * codes, pending registration), and its username and address become free again. The audit log
 * keeps its rows. Accounts already purged, or that the lifecycle cannot purge, are skipped, so
 * running the same batch twice changes nothing the second time.
 */
export async function purgeAccounts(
  tx: Kysely<Database>,
  dialect: Dialect,
  ids: string[],
  how: { actor: Actor; reason: string; at: Date; provisioning: Pick<AppContext, 'config' | 'env'> },
): Promise<PurgedAccount[]> {
  const provisioned = targetSpecs(how.provisioning).length > 0;
  if (ids.length === 0) return [];
  const at = how.at.toISOString();
  const out: PurgedAccount[] = [];
  for (const part of chunk(ids, CHUNK)) {
    let q = tx.selectFrom('accounts').select(['id', 'person_id', 'status', 'username']).where('id', 'in', part).where('status', '!=', 'purged');
    // PostgreSQL: hold the rows so a concurrent change waits for this purge instead of racing it.
    if (dialect === 'postgres') q = q.forUpdate();
    const rows = await q.execute();
    const audits: Array<Insertable<AuditTable>> = [];
    const purged: typeof rows = [];
    for (const r of rows) {
      const path = purgePath(r.status as AccountStatus);
      if (!path) continue;
      purged.push(r);
      // One entry per account; `via` names the lifecycle steps taken (e.g. active → expired → purged).
      audits.push({
        at,
        actor: how.actor,
        action: 'account.status_changed',
        account_id: r.id,
        person_id: r.person_id,
        ip: null,
        correlation_id: null,
        details: JSON.stringify({ from: r.status, to: 'purged', ...(path.length > 1 ? { via: path.slice(0, -1) } : {}), reason: how.reason }),
      });
    }
    if (purged.length === 0) continue;
    const pids = purged.map((r) => r.id);
    for (const a of chunk(audits, CHUNK)) await tx.insertInto('audit_log').values(a).execute();
    // As transitionAccount does for one account: the targets delete the entry (enqueued while the
    // username is still known) and every single sign-on grant and token of the account ends.
    if (provisioned) for (const id of pids) await enqueueAccountProvisioning(how.provisioning, tx, how.at, id, ['delete']);
    await tx.deleteFrom('oidc_payloads').where('account_id', 'in', pids).execute();
    await tx
      .updateTable('accounts')
      .set({
        status: 'purged',
        username: sql<string>`'purged-' || id`,
        username_lower: sql<string>`'purged-' || lower(id)`,
        email: null,
        email_lower: null,
        password_hash: null,
        person_id: null,
        roles: '[]',
        updated_at: at,
        version: sql<number>`version + 1`,
      })
      .where('id', 'in', pids)
      .execute();
    await tx.deleteFrom('sessions').where('account_id', 'in', pids).execute();
    await tx.deleteFrom('flows').where('account_id', 'in', pids).execute();
    await tx.deleteFrom('one_time_codes').where('subject', 'in', pids).execute();
    // A registration's flow holds the name and address typed in: only "void" stays of it, so a late
    // visit still reads that the registration expired.
    const regFlows = (await tx.selectFrom('registrations').select('flow_id').where('account_id', 'in', pids).where('flow_id', 'is not', null).execute()).map((r) => r.flow_id!);
    if (regFlows.length) await tx.updateTable('flows').set({ data: JSON.stringify({ d: { voided: true } }), updated_at: at }).where('id', 'in', regFlows).where('state', '!=', 'completed').execute();
    await tx.deleteFrom('registrations').where('account_id', 'in', pids).execute();
    const persons = purged.map((r) => r.person_id).filter((p): p is string => p !== null);
    if (persons.length) await tx.deleteFrom('persons').where('id', 'in', persons).execute();
    for (const r of purged) out.push({ id: r.id, username: r.username });
  }
  return out;
}
