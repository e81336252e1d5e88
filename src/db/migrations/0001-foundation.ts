import { sql } from 'kysely';
import { notNull, serialId, type PortableMigration } from './helpers.js';

/** People, accounts, flows, sessions, login throttling, audit log, outbox, admin tokens. */
export const foundation: PortableMigration = (dialect) => ({
  async up(db) {
    await db.schema
      .createTable('persons')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('population', 'text', notNull)
      .addColumn('external_id', 'text', notNull)
      .addColumn('given_name', 'text', notNull)
      .addColumn('family_name', 'text', notNull)
      .addColumn('birth_date', 'text')
      .addColumn('tax_code', 'text')
      .addColumn('amka', 'text')
      .addColumn('insurance_country', 'text')
      .addColumn('insurance_number', 'text')
      .addColumn('mobile', 'text')
      .addColumn('personal_email', 'text')
      .addColumn('personal_email_lower', 'text')
      .addColumn('registrar_status', 'text', notNull)
      .addColumn('org_unit', 'text')
      .addColumn('role', 'text')
      .addColumn('contract_type', 'text')
      .addColumn('entitlements', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('source_hash', 'text', notNull)
      .addColumn('created_at', 'text', notNull)
      .addColumn('updated_at', 'text', notNull)
      .addUniqueConstraint('persons_population_external_id', ['population', 'external_id'])
      .execute();
    await db.schema.createIndex('persons_tax_code').on('persons').column('tax_code').execute();
    await db.schema.createIndex('persons_mobile').on('persons').column('mobile').execute();
    await db.schema.createIndex('persons_personal_email').on('persons').column('personal_email_lower').execute();

    await db.schema
      .createTable('accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('person_id', 'text', (c) => c.references('persons.id').onDelete('set null'))
      .addColumn('username', 'text', notNull)
      .addColumn('username_lower', 'text', (c) => c.notNull().unique())
      .addColumn('email', 'text')
      .addColumn('email_lower', 'text', (c) => c.unique())
      .addColumn('status', 'text', notNull)
      .addColumn('password_hash', 'text')
      .addColumn('password_changed_at', 'text')
      .addColumn('federated_only', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('roles', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'text', notNull)
      .addColumn('updated_at', 'text', notNull)
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('accounts_person').on('accounts').column('person_id').execute();

    await db.schema
      .createTable('flows')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', notNull)
      .addColumn('state', 'text', notNull)
      .addColumn('data', 'text', notNull)
      .addColumn('account_id', 'text')
      .addColumn('csrf_token', 'text', notNull)
      .addColumn('locale', 'text', notNull)
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expires_at', 'text', notNull)
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', notNull)
      .addColumn('updated_at', 'text', notNull)
      .execute();
    await db.schema.createIndex('flows_expires').on('flows').column('expires_at').execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('created_at', 'text', notNull)
      .addColumn('expires_at', 'text', notNull)
      .addColumn('last_seen_at', 'text', notNull)
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();

    await db.schema
      .createTable('login_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', notNull)
      .addColumn('window_start', 'text', notNull)
      .addColumn('locked_until', 'text')
      .execute();

    await serialId(db.schema.createTable('audit_log'), dialect)
      .addColumn('at', 'text', notNull)
      .addColumn('actor', 'text', notNull)
      .addColumn('action', 'text', notNull)
      .addColumn('account_id', 'text')
      .addColumn('person_id', 'text')
      .addColumn('ip', 'text')
      .addColumn('correlation_id', 'text')
      .addColumn('details', 'text', notNull)
      .execute();
    await db.schema.createIndex('audit_account').on('audit_log').columns(['account_id', 'id']).execute();
    await db.schema.createIndex('audit_person').on('audit_log').columns(['person_id', 'id']).execute();
    // Append-only: the database itself refuses to change or remove an audit entry.
    if (dialect === 'postgres') {
      await sql`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`.execute(db);
      await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db);
    } else {
      await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
      await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
    }

    await db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel', 'text', notNull)
      .addColumn('purpose', 'text', notNull)
      .addColumn('recipient', 'text', notNull)
      .addColumn('payload', 'text', notNull)
      .addColumn('status', 'text', notNull)
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', notNull)
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', notNull)
      .addColumn('sent_at', 'text')
      .execute();
    await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();

    await db.schema
      .createTable('admin_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', notNull)
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', notNull)
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
  },
  async down(db) {
    for (const t of ['admin_tokens', 'outbox', 'audit_log', 'login_throttle', 'sessions', 'flows', 'accounts', 'persons']) {
      await db.schema.dropTable(t).execute();
    }
    if (dialect === 'postgres') await sql`DROP FUNCTION IF EXISTS audit_log_append_only()`.execute(db);
  },
});
