import { expireCeased } from './expire-ceased.js';
import { expireUnverified } from './expire-unverified.js';
import { purgeUnused } from './purge-unused.js';
import { mailboxRemindersJob } from './mailbox-reminders.js';
import { schoolMailboxesJob } from './school-mailboxes.js';
import type { JobDefinition } from './types.js';

/** The mailbox jobs report per request or per school; here each becomes an entry of the job report. */
const mailboxReminders: JobDefinition = {
  name: mailboxRemindersJob.name,
  description: 'remind referents of pending mailbox requests; expire those left undecided',
  async run(ctx, run) {
    const r = await mailboxRemindersJob.run(ctx, { dryRun: run.dryRun });
    for (let i = 0; i < r.reminded; i++) run.record('reminded', 'mailbox-request');
    for (let i = 0; i < r.expired; i++) run.record('expired', 'mailbox-request');
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
