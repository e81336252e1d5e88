import { expireCeased } from './expire-ceased.js';
import { expireUnverified } from './expire-unverified.js';
import { purgeUnused } from './purge-unused.js';
import { mailboxRemindersJob } from './mailbox-reminders.js';
import { schoolMailboxesJob } from './school-mailboxes.js';
import type { AppContext } from '../app/context.js';
import { targetSpecs } from '../provisioning/targets.js';
import { reconcileJob } from './reconcile-provisioning.js';
import type { JobDefinition } from './types.js';

/** The mailbox jobs report per request or per school; here each becomes an entry of the job report. */
const mailboxReminders: JobDefinition = {
  name: mailboxRemindersJob.name,
  description: 'remind referents of pending mailbox requests; expire those left undecided',
  async run(ctx, run) {
    const r = await mailboxRemindersJob.run(ctx, { dryRun: run.dryRun });
    for (const username of r.reminded) run.record('reminded', username);
    for (const username of r.noReferent) run.record('no_referent', username);
    for (const username of r.expired) run.record('expired', username);
  },
};
const schoolMailboxes: JobDefinition = {
  name: schoolMailboxesJob.name,
  description: 'open the mailboxes of schools whose school year has started (1 September)',
  async run(ctx, run) {
    const r = await schoolMailboxesJob.run(ctx, { dryRun: run.dryRun });
    for (const s of r.opened) run.record('opened', s.externalId);
    for (const s of r.waiting) run.record('waiting', s.externalId);
    for (const s of r.invalid) run.record('invalid_school_year', s.externalId);
  },
};

/** Every lifecycle job by name (the names of the CLI, the admin API and the schedule). */
export const jobDefinitions: Record<string, JobDefinition> = {
  [expireUnverified.name]: expireUnverified,
  [purgeUnused.name]: purgeUnused,
  [expireCeased.name]: expireCeased,
  [mailboxReminders.name]: mailboxReminders,
  [schoolMailboxes.name]: schoolMailboxes,
};

/** `reconcile-<target>` for each configured provisioning target: each difference becomes an entry. */
function reconcileDefinition(targetId: string): JobDefinition {
  const job = reconcileJob(targetId);
  return {
    name: job.name,
    description: `compare Tessera with the provisioning target ${targetId} and repair drift`,
    async run(ctx, run) {
      const r = await job.run(ctx, { dryRun: run.dryRun });
      for (const d of r.differences) run.record(d.error ? `${d.kind}_failed` : d.kind, d.username);
    },
  };
}

/** The job called `name`: a lifecycle job, or the reconciliation of a configured target. */
export function findJob(ctx: Pick<AppContext, 'config' | 'env'>, name: string): JobDefinition | undefined {
  if (Object.hasOwn(jobDefinitions, name)) return jobDefinitions[name];
  const target = /^reconcile-(.+)$/.exec(name)?.[1];
  return target && targetSpecs(ctx).some((t) => t.id === target) ? reconcileDefinition(target) : undefined;
}

/** Every job name, with the reconciliations of the targets configured in `ctx`. */
export function allJobNames(ctx: Pick<AppContext, 'config' | 'env'>): string[] {
  return [...Object.keys(jobDefinitions), ...targetSpecs(ctx).map((t) => `reconcile-${t.id}`)];
}
