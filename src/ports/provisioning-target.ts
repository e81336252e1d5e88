/**
 * A system that receives Tessera's accounts (a directory, a mail platform). Every method is
 * idempotent: applying it twice, or to a target already in the wanted state, changes nothing and
 * succeeds, so a replayed outbox operation converges. Methods throw when the target cannot be
 * reached or refuses; the outbox retries.
 */
export interface ProvisioningTarget {
  readonly id: string;
  readonly type: 'ldap' | 'google';
  /** The key an account has on this target (LDAP: uid; Google: primary address), lowercased. */
  keyOf(ref: TargetRef): string | null;
  /** Creates the account or brings its attributes, group and lock state to `account`. */
  ensureAccount(account: ProvisionedAccount): Promise<void>;
  /** Writes the account's password hash (null: no password, binds fail). False when the entry is absent. */
  setPassword(ref: TargetRef, passwordHash: string | null): Promise<boolean>;
  /** Makes sign-ins fail while keeping the entry. False when the entry is absent. */
  suspend(ref: TargetRef): Promise<boolean>;
  /** Removes the account; absent already is success. */
  delete(ref: TargetRef): Promise<void>;
  /** Every account the target holds under Tessera's management, as Tessera would describe it. */
  list(): Promise<TargetEntry[]>;
  /** The attributes of `entry` that differ from `account` (empty: in step). */
  differences(account: ProvisionedAccount, entry: TargetEntry): string[];
  close(): Promise<void>;
}

/** How to find an account on a target. */
export interface TargetRef {
  username: string;
  email: string | null;
}

/** An account as a target should hold it. */
export interface ProvisionedAccount extends TargetRef {
  givenName: string;
  familyName: string;
  population: string | null;
  /** Mailbox quota in bytes, or null when the population has none. */
  mailQuotaBytes: number | null;
  suspended: boolean;
  /** The account's current hash (argon2id, or a legacy format); null when it has none. */
  passwordHash: string | null;
}

/** An account as found on a target. `passwordValue` (as stored) is undefined when the target cannot show it. */
export interface TargetEntry {
  key: string;
  username: string;
  email: string | null;
  givenName: string | null;
  familyName: string | null;
  population: string | null;
  mailQuotaBytes: number | null;
  suspended: boolean;
  passwordValue?: string | null;
}
