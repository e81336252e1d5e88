import type { Kysely } from 'kysely';
import { audit, type Actor, type RequestMeta } from '../audit/audit.js';
import { AppError } from '../errors/app-error.js';
import { preparedQuery } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import { accountStatuses, canTransition, isRegistrarSuspension, type AccountStatus } from '../domain/account-status.js';
import { forgetConsents } from '../oidc/consents.js';
import { revokeOidcForAccount } from '../oidc/revoke.js';
import { revokeAccountSessions } from '../sessions/sessions.js';
import type { AppContext } from '../app/context.js';
import { enqueueAccountProvisioning, opsForTransition } from '../provisioning/enqueue.js';
import type { Account } from './types.js';

const endsAccess = new Set<AccountStatus>(['suspended', 'locked', 'expired', 'purged']);

const setStatus = preparedQuery((db, id: string, version: number, nextVersion: number, status: string, at: string) =>
  db.updateTable('accounts').set({ status, updated_at: at, version: nextVersion }).where('id', '=', id).where('version', '=', version),
);

/**
 * Moves an account to another status inside `tx`, checking the lifecycle and the row version
 * (a concurrent change makes this throw), and records who and why in the audit log. With
 * `how.provisioning` (the context), the provisioning operations the change asks for (ensure,
 * suspend, delete) are enqueued in the same transaction: every caller passes it.
 */
export async function transitionAccount(
  tx: Kysely<Database>,
  account: Pick<Account, 'id' | 'personId' | 'status' | 'version'>,
  to: AccountStatus,
  how: { actor: Actor; reason: string; at: Date; meta?: RequestMeta | undefined; provisioning: Pick<AppContext, 'config' | 'env'> },
): Promise<void> {
  if (account.status === to) return;
  if (!canTransition(account.status, to)) {
    throw new Error(`account ${account.id}: transition ${account.status} -> ${to} is not allowed`);
  }
  const changed = await setStatus.run(tx, account.id, account.version, account.version + 1, to, how.at.toISOString());
  if (changed !== 1) throw new ConcurrentChangeError(account.id);
  // An account that can no longer sign in loses its Tessera sessions (a page or the API open in a
  // browser stops at once), its single sign-on sessions and refresh tokens, and the consents it
  // gave services.
  if (endsAccess.has(to)) {
    await revokeAccountSessions(tx, account.id, how.at);
    await revokeOidcForAccount(tx, account.id, { config: how.provisioning.config, at: how.at });
    await forgetConsents(tx, account.id);
  }
  await audit(tx, how.at, {
    actor: how.actor,
    action: 'account.status_changed',
    accountId: account.id,
    personId: account.personId,
    ip: how.meta?.ip ?? null,
    correlationId: how.meta?.correlationId ?? null,
    details: { from: account.status, to, reason: how.reason },
  });
  if (how.provisioning) await enqueueAccountProvisioning(how.provisioning, tx, how.at, account.id, opsForTransition(to));
}

/**
 * For a suspended account: the status it had when the registrar's record suspended it (the record
 * ceased or was suspended, as the reason of its last transition says), or null when the last
 * transition was for another reason (an administrator's, for instance).
 */
export async function registrarSuspension(tx: Kysely<Database>, accountId: string): Promise<AccountStatus | null> {
  const last = await tx
    .selectFrom('audit_log')
    .select('details')
    .where('account_id', '=', accountId)
    .where('action', '=', 'account.status_changed')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return null;
  const d = JSON.parse(last.details) as { from?: unknown; to?: unknown; reason?: unknown };
  if (d.to !== 'suspended' || !isRegistrarSuspension(d.reason)) return null;
  return (accountStatuses as readonly unknown[]).includes(d.from) ? (d.from as AccountStatus) : null;
}

/**
 * The account row changed between reading it and writing it (another request, instance or job
 * got there first). The whole step rolls back and the caller is told to try again: 409
 * `account.changed`.
 */
export class ConcurrentChangeError extends AppError {
  constructor(readonly accountId: string) {
    super('account.changed');
    this.name = 'ConcurrentChangeError';
  }
}
