/**
 * The account lifecycle. Every change of status goes through `canTransition` and is written to the
 * audit log with who and why (accounts/lifecycle.ts).
 */
export const accountStatuses = [
  'provisional',
  'pending_activation',
  'pending_verification',
  'active',
  'suspended',
  'locked',
  'expired',
  'purged',
] as const;
export type AccountStatus = (typeof accountStatuses)[number];

const transitions: Record<AccountStatus, readonly AccountStatus[]> = {
  provisional: ['pending_activation', 'expired', 'purged'],
  pending_activation: ['provisional', 'active', 'suspended', 'expired', 'purged'],
  pending_verification: ['active', 'expired', 'purged'],
  active: ['suspended', 'locked', 'expired'],
  // pending_activation: a record enrolled again before its account was ever activated.
  suspended: ['active', 'pending_activation', 'expired', 'purged'],
  locked: ['active', 'suspended', 'expired'],
  expired: ['pending_activation', 'active', 'purged'],
  purged: [],
};

export function canTransition(from: AccountStatus, to: AccountStatus): boolean {
  return transitions[from].includes(to);
}

/** Statuses in which a password login may succeed. */
export const canLogIn = (s: AccountStatus): boolean => s === 'active';

/**
 * Statuses in which a SPID login may take over a record's account (link it, align it, activate it):
 * in use, or waiting for its activation. One the registrar's record suspended or ended, a locked
 * one and a record not yet admitted (provisional) stay as they are.
 */
export const spidMayUse = (s: AccountStatus): boolean => s === 'active' || s === 'pending_activation';

/** Registrar statuses as imported, and the account status each one implies for a new account. */
export const registrarStatuses = ['provisional', 'enrolled', 'active', 'suspended', 'ceased'] as const;
export type RegistrarStatus = (typeof registrarStatuses)[number];

/** The reason the importer records on the transitions a registrar status causes. */
export const registrarReason = (from: string, to: RegistrarStatus): string => `registrar status ${from} -> ${to}`;

/**
 * Whether a transition's recorded reason is the registrar's record ceasing or being suspended: the
 * importer's registrarReason, or the expire-ceased job's `registrar.ceased`.
 */
export function isRegistrarSuspension(reason: unknown): boolean {
  return typeof reason === 'string' && (reason === 'registrar.ceased' || /^registrar status \S+ -> (ceased|suspended)$/.test(reason));
}

/**
 * Where an account should go when its registrar record says `registrar`. Returns null when the
 * account stays as it is (e.g. an active account whose record is still enrolled). `suspendedFrom`
 * is, for a suspended account, the status it had when the registrar's record suspended it (ceased
 * or suspended); null when it was suspended for another reason (or is not suspended).
 */
export function statusForRegistrar(current: AccountStatus | null, registrar: RegistrarStatus, suspendedFrom: AccountStatus | null = null): AccountStatus | null {
  switch (registrar) {
    case 'provisional':
      // "ipotesi": cannot be activated yet; an account already in use is not taken back.
      return current === null || current === 'pending_activation' ? 'provisional' : null;
    case 'enrolled':
    case 'active':
      if (current === null || current === 'provisional' || current === 'expired') return 'pending_activation';
      // Only a suspension the registrar caused is lifted: back to the status it interrupted (a lock
      // is not brought back); one for another reason stays.
      if (current === 'suspended' && suspendedFrom !== null) {
        if (suspendedFrom === 'active' || suspendedFrom === 'locked') return 'active';
        if (suspendedFrom === 'pending_activation') return 'pending_activation';
      }
      return null;
    case 'suspended':
      return current === 'active' || current === 'locked' ? 'suspended' : current === null ? 'provisional' : null;
    case 'ceased':
      if (current === null) return 'expired';
      if (current === 'active' || current === 'locked') return 'suspended';
      if (current === 'provisional' || current === 'pending_activation') return 'expired';
      return null;
  }
}
