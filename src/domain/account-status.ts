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
  suspended: ['active', 'expired', 'purged'],
  locked: ['active', 'suspended', 'expired'],
  expired: ['pending_activation', 'active', 'purged'],
  purged: [],
};

export function canTransition(from: AccountStatus, to: AccountStatus): boolean {
  return transitions[from].includes(to);
}

/** Statuses in which a password login may succeed. */
export const canLogIn = (s: AccountStatus): boolean => s === 'active';

/** Registrar statuses as imported, and the account status each one implies for a new account. */
export const registrarStatuses = ['provisional', 'enrolled', 'active', 'suspended', 'ceased'] as const;
export type RegistrarStatus = (typeof registrarStatuses)[number];

/**
 * Where an account should go when its registrar record says `registrar`. Returns null when the
 * account stays as it is (e.g. an active account whose record is still enrolled).
 */
export function statusForRegistrar(current: AccountStatus | null, registrar: RegistrarStatus): AccountStatus | null {
  switch (registrar) {
    case 'provisional':
      // "ipotesi": cannot be activated yet; an account already in use is not taken back.
      return current === null || current === 'pending_activation' ? 'provisional' : null;
    case 'enrolled':
    case 'active':
      // A suspension is not lifted here: it may have other causes than the registrar's.
      if (current === null || current === 'provisional' || current === 'expired') return 'pending_activation';
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
