import type { Generated } from 'kysely';

/** Tables as stored. Timestamps are ISO-8601 UTC strings; booleans are 0/1; JSON is text. */
export interface PersonTable {
  id: string;
  population: string;
  external_id: string;
  given_name: string;
  family_name: string;
  birth_date: string | null;
  tax_code: string | null;
  amka: string | null;
  insurance_country: string | null;
  insurance_number: string | null;
  mobile: string | null;
  personal_email: string | null;
  personal_email_lower: string | null;
  registrar_status: string;
  org_unit: string | null;
  role: string | null;
  contract_type: string | null;
  entitlements: string;
  extra: string;
  source_hash: string;
  created_at: string;
  updated_at: string;
}

export interface AccountTable {
  id: string;
  person_id: string | null;
  username: string;
  username_lower: string;
  email: string | null;
  email_lower: string | null;
  status: string;
  password_hash: string | null;
  password_changed_at: string | null;
  federated_only: number;
  roles: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface FlowTable {
  id: string;
  kind: string;
  state: string;
  data: string;
  account_id: string | null;
  csrf_token: string;
  locale: string;
  attempts: number;
  expires_at: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface SessionTable {
  id: string;
  account_id: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
  revoked_at: string | null;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_start: string;
  locked_until: string | null;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  account_id: string | null;
  person_id: string | null;
  ip: string | null;
  correlation_id: string | null;
  details: string;
}

export interface OutboxTable {
  id: string;
  channel: string;
  purpose: string;
  recipient: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface AdminTokenTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface OneTimeCodeTable {
  id: string;
  purpose: string;
  subject: string;
  code_hash: string;
  destination: string | null;
  attempts: number;
  max_attempts: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

/** Provisioning status of one account on one target (see provisioning/state.ts). */
export interface ProvisioningStateTable {
  account_id: string;
  target: string;
  status: string;
  last_op: string;
  last_error: string | null;
  attempts: number;
  updated_at: string;
}

export interface Database {
  one_time_codes: OneTimeCodeTable;
  persons: PersonTable;
  accounts: AccountTable;
  flows: FlowTable;
  sessions: SessionTable;
  login_throttle: LoginThrottleTable;
  audit_log: AuditTable;
  outbox: OutboxTable;
  admin_tokens: AdminTokenTable;
  provisioning_state: ProvisioningStateTable;
}
