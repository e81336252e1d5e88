import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import type { ProvisionedAccount, TargetEntry } from '../ports/provisioning-target.js';
import { accountRows, desiredFor, type AccountRow } from '../provisioning/desired.js';
import { recordProvisioningStates, type StateChange } from '../provisioning/state.js';
import { openTarget, targetSpecs } from '../provisioning/targets.js';

export interface Difference {
  /** missing: Tessera has it, the target not; extra: the target has it, Tessera not; stale: attributes differ. */
  kind: 'missing' | 'extra' | 'stale';
  key: string;
  username: string;
  fields?: string[];
  /** Set when the repair failed (the others were still tried). */
  error?: string;
}

export interface ReconcileReport {
  job: string;
  target: string;
  dryRun: boolean;
  /** Accounts Tessera wants on the target. */
  accounts: number;
  /** Entries found on the target. */
  entries: number;
  differences: Difference[];
  repaired: number;
}

export interface ReconcileJob {
  name: string;
  run(ctx: AppContext, opts: { dryRun: boolean }): Promise<ReconcileReport>;
}

/**
 * The job `reconcile-<target>`: compares what Tessera wants on the target with what the target
 * holds, reports each difference and (unless `dryRun`) repairs it — creating missing entries,
 * deleting extra ones, rewriting stale ones. Idempotent: a second run finds nothing.
 */
export function reconcileJob(targetId: string): ReconcileJob {
  const name = `reconcile-${targetId}`;
  return {
    name,
    async run(ctx, { dryRun }) {
      const spec = targetSpecs(ctx).find((t) => t.id === targetId);
      if (!spec) throw new Error(`provisioning target ${targetId} is not configured`);
      const target = openTarget(ctx, targetId);
      const found = new Map<string, TargetEntry>();
      for (const e of await target.list()) found.set(e.key, e);
      const report: ReconcileReport = { job: name, target: targetId, dryRun, accounts: 0, entries: found.size, differences: [], repaired: 0 };
      const repairs: Array<{ diff: Difference; fix: () => Promise<unknown>; accountId?: string }> = [];

      const consider = (row: AccountRow) => {
        const d = desiredFor(ctx.config, spec.populations, row);
        if (d.kind === 'absent') return;
        const a: ProvisionedAccount = d.account;
        const key = target.keyOf(a);
        if (key === null) return;
        const entry = found.get(key);
        found.delete(key);
        if (d.kind === 'hold') {
          if (entry && !entry.suspended) repairs.push({ diff: { kind: 'stale', key, username: a.username, fields: ['locked'] }, fix: () => target.suspend(a), accountId: row.id });
          return;
        }
        report.accounts++;
        if (!entry) return repairs.push({ diff: { kind: 'missing', key, username: a.username }, fix: () => target.ensureAccount(a), accountId: row.id });
        const fields = target.differences(a, entry);
        if (fields.length) repairs.push({ diff: { kind: 'stale', key, username: a.username, fields }, fix: () => target.ensureAccount(a), accountId: row.id });
      };

      // Accounts are read page by page: a university has hundreds of thousands.
      let after = '';
      for (;;) {
        const page = await accountRows(ctx.db.kysely).where('accounts.id', '>', after).orderBy('accounts.id').limit(1000).execute();
        page.forEach(consider);
        if (page.length < 1000) break;
        after = page[page.length - 1]!.id;
      }
      for (const e of found.values()) {
        repairs.push({ diff: { kind: 'extra', key: e.key, username: e.username }, fix: () => target.delete({ username: e.username, email: e.email }) });
      }

      const states: StateChange[] = [];
      for (const r of repairs) {
        report.differences.push(r.diff);
        if (dryRun) continue;
        try {
          await r.fix();
          report.repaired++;
          if (r.accountId) states.push({ accountId: r.accountId, target: targetId, status: 'ok', op: 'reconcile', attempts: 1 });
        } catch (e) {
          r.diff.error = e instanceof Error ? e.message : String(e);
          if (r.accountId) states.push({ accountId: r.accountId, target: targetId, status: 'failed', op: 'reconcile', error: r.diff.error.slice(0, 500), attempts: 1 });
        }
      }
      await recordProvisioningStates(ctx.db.kysely, ctx.clock.now(), states);
      if (!dryRun && report.differences.length) {
        await audit(ctx.db.kysely, ctx.clock.now(), {
          actor: `job:${name}`,
          action: 'provisioning.reconciled',
          accountId: null,
          personId: null,
          ip: null,
          correlationId: null,
          details: { target: targetId, differences: report.differences.length, repaired: report.repaired },
        });
      }
      return report;
    },
  };
}

/** One reconciliation job per configured provisioning target. */
export function reconcileJobs(ctx: Pick<AppContext, 'config' | 'env'>): ReconcileJob[] {
  return targetSpecs(ctx).map((t) => reconcileJob(t.id));
}
