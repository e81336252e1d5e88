import { notNull, type PortableMigration } from './helpers.js';

/**
 * Self-registration and lifecycle jobs: the pending registrations with their link lifetime, the
 * job leases that let one instance at a time run a job, and per-account job marks (warning sent,
 * suspended for a ceased record) that make the jobs idempotent and resumable.
 */
export const registration: PortableMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('registrations')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
      .addColumn('flow_id', 'text')
      .addColumn('email_lower', 'text', notNull)
      .addColumn('created_at', 'text', notNull)
      .addColumn('expires_at', 'text', notNull)
      .addColumn('verified_at', 'text')
      .execute();
    await db.schema.createIndex('registrations_expires').on('registrations').columns(['verified_at', 'expires_at']).execute();

    await db.schema
      .createTable('job_leases')
      .addColumn('job', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', notNull)
      .addColumn('expires_at', 'text', notNull)
      .addColumn('last_slot', 'text')
      .execute();

    await db.schema
      .createTable('job_marks')
      .addColumn('job', 'text', notNull)
      .addColumn('account_id', 'text', notNull)
      .addColumn('mark', 'text', notNull)
      .addColumn('at', 'text', notNull)
      .addPrimaryKeyConstraint('job_marks_pk', ['job', 'account_id', 'mark'])
      .execute();

    // Purges remove an account's flows and codes by account: these lookups must not scan.
    await db.schema.createIndex('flows_account').on('flows').column('account_id').execute();
    await db.schema.createIndex('otc_by_subject').on('one_time_codes').column('subject').execute();
  },
  async down(db) {
    await db.schema.dropIndex('otc_by_subject').execute();
    await db.schema.dropIndex('flows_account').execute();
    for (const t of ['job_marks', 'job_leases', 'registrations']) await db.schema.dropTable(t).execute();
  },
});
