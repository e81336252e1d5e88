import type { ColumnType, Generated } from 'kysely';

/** Tables as stored. Timestamps are ISO-8601 UTC strings; booleans are 0/1; JSON is text. */
export interface PersonTable {
  id: string;
  population: string;
  external_id: string;
  given_name: string;
  family_name: string;
  /**
   * The name as the helpdesk searches it (domain/name-key.ts), "family given" and "given family":
   * written with every write of the names (nameKeyColumns). Nullable in the database (added to a
   * filled table), set for every row; required here, so that no insert forgets them.
   */
  name_key_family_first: string;
  name_key_given_first: string;
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
  /** The language the person last chose on Tessera (it, en, el): their emails go out in it. */
  locale: ColumnType<string | null, string | null | undefined, string | null>;
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
  /** The authentication level of a federated login (e.g. SpidL2), exposed to services as `acr`. */
  acr: ColumnType<string | null, string | null | undefined, string | null>;
  /** A hash of the IdP and NameID of the SPID login that opened the session (single logout). */
  federated_sid: ColumnType<string | null, string | null | undefined, string | null>;
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

export interface OrgUnitTable {
  code: string;
  name: string;
  type: string;
  parent: string | null;
  created_at: string;
  updated_at: string;
}

export interface OrgUnitReferentTable {
  org_unit: string;
  account_id: string;
  created_at: string;
}

export interface MailboxRequestTable {
  id: string;
  account_id: string;
  person_id: string;
  org_unit: string | null;
  flow_id: string | null;
  /** pending, approved, rejected, expired, fulfilled */
  status: string;
  address: string | null;
  comment: string | null;
  decided_by: string | null;
  locale: string;
  created_at: string;
  decided_at: string | null;
  reminded_at: string | null;
  expires_at: string;
}

export interface OidcPayloadTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  account_id: string | null;
  client_id: string | null;
  expires_at: string | null;
  consumed_at: string | null;
}

export interface OidcConsentTable {
  account_id: string;
  client_id: string;
  /** Space-separated scopes the person allowed. */
  scopes: string;
  /** JSON array of the claims the person allowed beyond the scopes. */
  claims: string;
  granted_at: string;
}

export interface OidcKeyTable {
  kid: string;
  alg: string;
  sealed_jwk: string;
  created_at: string;
  /** From then on the key no longer signs (it stays published for the overlap); may be ahead. */
  retired_at: string | null;
  /** From then on the key signs; null: from its creation. A rotation's new keys sign later. */
  signs_from: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface OidcServiceTable {
  id: string;
  /** LocalizedText as JSON. */
  name: string;
  /** Populations, redirect URIs and the other client metadata, as JSON. */
  metadata: string;
  sealed_secret: string | null;
  created_at: string;
}

export interface RegistrationTable {
  account_id: string;
  flow_id: string | null;
  email_lower: string;
  created_at: string;
  expires_at: string;
  verified_at: string | null;
}

export interface JobLeaseTable {
  job: string;
  holder: string;
  expires_at: string;
  last_slot: string | null;
}

export interface JobMarkTable {
  job: string;
  account_id: string;
  mark: string;
  at: string;
}

export interface TicketTable {
  id: string;
  created_at: string;
  status: string;
  flow_kind: string | null;
  flow_state: string | null;
  error_code: string | null;
  reference: string | null;
  occurred_at: string | null;
  contact: string;
  name: string | null;
  message: string;
  locale: string;
  ip: string | null;
}

export interface ConsentRecordTable {
  id: string;
  person_id: string;
  account_id: string | null;
  consent_id: string;
  version: string;
  granted: number;
  locale: string;
  at: string;
}

/** A pending SPID authentication request: consumed once by the response that answers it. */
export interface SpidRequestTable {
  id: string;
  idp: string;
  level: string;
  comparison: string;
  relay_state: string;
  browser_hash: string;
  return_to: string | null;
  locale: string;
  /** The language chosen or asked for at the start (kept with the account), null for a default. */
  language: string | null;
  issue_instant: string;
  expires_at: string;
  consumed_at: string | null;
}

/** A SPID identity linked to an account; the key is the codice fiscale, never spidCode. */
export interface SpidIdentityTable {
  tax_code: string;
  account_id: string;
  idp: string;
  created_at: string;
  last_login_at: string;
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

/**
 * A registrar record Tessera purged (accounts/purged-records.ts): the keyed hash of its population
 * and external id, when and why. Nothing else of the person.
 */
export interface PurgedRecordTable {
  key: string;
  purged_at: string;
  reason: string;
}

export interface Database {
  provisioning_state: ProvisioningStateTable;
  spid_requests: SpidRequestTable;
  spid_identities: SpidIdentityTable;
  tickets: TicketTable;
  consent_records: ConsentRecordTable;
  org_units: OrgUnitTable;
  org_unit_referents: OrgUnitReferentTable;
  mailbox_requests: MailboxRequestTable;
  oidc_payloads: OidcPayloadTable;
  oidc_consents: OidcConsentTable;
  oidc_keys: OidcKeyTable;
  oidc_services: OidcServiceTable;
  registrations: RegistrationTable;
  job_leases: JobLeaseTable;
  job_marks: JobMarkTable;
  one_time_codes: OneTimeCodeTable;
  persons: PersonTable;
  purged_records: PurgedRecordTable;
  accounts: AccountTable;
  flows: FlowTable;
  sessions: SessionTable;
  login_throttle: LoginThrottleTable;
  audit_log: AuditTable;
  outbox: OutboxTable;
  admin_tokens: AdminTokenTable;
}
