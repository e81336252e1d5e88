import type { AppContext } from '../../app/context.js';
import { audit, type RequestMeta } from '../../audit/audit.js';
import { issueCode } from '../../codes/one-time-codes.js';
import { purgeAccounts } from '../../accounts/purge.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import type { Locale } from '../../i18n/index.js';
import type { Tx } from '../kernel/types.js';
import { verificationEmail } from './emails.js';

export const VERIFY_PURPOSE = 'email_verification';

/** The pending registration of an account, or null when it has none (verified long ago, or purged). */
export async function findRegistration(db: Tx, accountId: string) {
  return (await db.selectFrom('registrations').selectAll().where('account_id', '=', accountId).executeTakeFirst()) ?? null;
}

export const lifetimeMs = (ctx: AppContext) => ctx.config.registration.linkLifetimeHours * 3_600_000;

/**
 * Who holds a username or an address (an expired account holds no address), and whether the
 * holder is only a registration whose link lifetime has passed (void: its username and address
 * are free again, even before the expire-unverified job has removed it).
 */
export async function holdersOf(ctx: AppContext, db: Tx, q: { usernameLower?: string; emailLower?: string }, exceptAccountId?: string) {
  const now = ctx.clock.now().toISOString();
  const byUsername = q.usernameLower
    ? await db.selectFrom('accounts').select(['id', 'status']).where('username_lower', '=', q.usernameLower).execute()
    : [];
  const byEmail = q.emailLower
    ? await db
        .selectFrom('accounts')
        .leftJoin('persons', 'persons.id', 'accounts.person_id')
        .select(['accounts.id as id', 'accounts.status as status'])
        // As recovery finds them (username-recovery's accountsByEmail): an account that ended
        // (a record that ceased before it was ever activated) holds no personal address, or
        // registration would send its owner to a recovery that has nothing to send. Its own
        // account address stays taken (it is unique among accounts).
        .where('accounts.status', '!=', 'purged')
        .where((eb) => eb.or([eb('accounts.status', '!=', 'expired'), eb('accounts.email_lower', '=', q.emailLower!)]))
        .where((eb) => eb.or([eb('accounts.email_lower', '=', q.emailLower!), eb('persons.personal_email_lower', '=', q.emailLower!)]))
        .execute()
    : [];
  const classify = async (rows: Array<{ id: string; status: string }>) => {
    const live: string[] = [];
    const stale: string[] = [];
    for (const r of rows) {
      if (r.id === exceptAccountId) continue;
      if (r.status === 'pending_verification') {
        const reg = await findRegistration(db, r.id);
        if (reg && !reg.verified_at && reg.expires_at <= now) {
          stale.push(r.id);
          continue;
        }
      }
      live.push(r.id);
    }
    return { live, stale };
  };
  const u = await classify(byUsername);
  const e = await classify(byEmail);
  return { usernameTaken: u.live.length > 0, emailTaken: e.live.length > 0, stale: [...new Set([...u.stale, ...e.stale])] };
}

/** Voids registrations whose lifetime passed: the accounts are purged, their names freed. */
export async function voidRegistrations(ctx: AppContext, tx: Tx, accountIds: string[], actor = 'system:registration') {
  return purgeAccounts(tx, ctx.db.dialect, accountIds, { actor, reason: 'registration.link_expired', at: ctx.clock.now(), provisioning: ctx });
}

/**
 * Issues a new activation link for a registration (the previous one stops working) and puts
 * the email in the outbox, inside `tx`. The link lives until the registration expires.
 */
export async function sendVerificationLink(
  ctx: AppContext,
  tx: Tx,
  r: { accountId: string; to: string; name: string; username: string; expiresAt: Date; locale: Locale },
): Promise<void> {
  const now = ctx.clock.now();
  const { code } = await issueCode(ctx, tx, {
    purpose: VERIFY_PURPOSE,
    subject: r.accountId,
    ttlMs: Math.max(1, r.expiresAt.getTime() - now.getTime()),
    format: 'token',
    maxAttempts: 5,
    destination: r.to,
  });
  await enqueueMessage(tx, now, verificationEmail(ctx, r.locale, { to: r.to, name: r.name, username: r.username, token: `${r.accountId}.${code}`, expiresAt: r.expiresAt }));
}

export async function auditRegistration(tx: Tx, at: Date, action: string, accountId: string, personId: string | null, meta: RequestMeta, details: Record<string, unknown> = {}) {
  await audit(tx, at, {
    actor: `account:${accountId}`,
    action,
    accountId,
    personId,
    ip: meta.ip,
    correlationId: meta.correlationId,
    details,
  });
}
