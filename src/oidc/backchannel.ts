import type { Kysely } from 'kysely';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import type { Database } from '../db/schema.js';

/**
 * Back-channel logout notices (OpenID Connect Back-Channel Logout 1.0) for the sign-outs Tessera
 * makes itself: signing out of the portal, and an account's single sign-on ending because its
 * password changed or it can no longer sign in. (A sign-out a service starts, RP-initiated
 * logout, is the provider's own and notifies the services there.)
 *
 * A notice is an outbox row (channel `oidc:backchannel-logout`, recipient the service's client id,
 * payload the subject and the session id the service knows): it is written in the transaction
 * that ends the grants, so a sign-out and its notices commit together, and the dispatcher of any
 * instance delivers it after the commit, retrying a service that does not answer. The logout
 * token is signed at delivery (its `iat` is when it is sent).
 */
export const BACKCHANNEL_PREFIX = 'oidc:';
export const BACKCHANNEL_CHANNEL = 'oidc:backchannel-logout';

export interface LogoutNotice {
  clientId: string;
  /** The provider's account id of the session (the `sub` before any pairwise mapping). */
  accountId: string;
  /** The session id that service got in its ID tokens (`sid`). */
  sid: string;
}

/** What Tessera reads of a provider session's stored payload. */
export interface SessionPayload {
  accountId?: string;
  authorizations?: Record<string, { sid?: string; tessera?: string; grantId?: string }>;
}

export const parseSession = (payload: string): SessionPayload => JSON.parse(payload) as SessionPayload;

/**
 * The notices owed for provider sessions about to end: one per service signed in through them
 * (`only`, when given, keeps the authorizations made under that Tessera session).
 */
export function noticesOf(sessions: readonly SessionPayload[], only?: (a: { tessera?: string }) => boolean): LogoutNotice[] {
  const out: LogoutNotice[] = [];
  for (const p of sessions) {
    if (!p.accountId) continue;
    for (const [clientId, a] of Object.entries(p.authorizations ?? {})) {
      if (a.sid && (!only || only(a))) out.push({ clientId, accountId: p.accountId, sid: a.sid });
    }
  }
  return out;
}

/** The services that take back-channel logout notices: the institution's file and the registered ones. */
async function listeningServices(tx: Kysely<Database>, config: AppContext['config']): Promise<Set<string>> {
  const ids = new Set(config.services.filter((s) => s.protocol === 'oidc' && s.backchannelLogoutUri).map((s) => s.id));
  const rows = await tx.selectFrom('oidc_services').select(['id', 'metadata']).execute();
  for (const r of rows) if ((JSON.parse(r.metadata) as { backchannelLogoutUri?: string }).backchannelLogoutUri) ids.add(r.id);
  return ids;
}

/**
 * Writes the notices for the services that take them, inside `tx` (the transaction ending the
 * grants). Returns how many were written.
 */
export async function enqueueLogoutNotices(tx: Kysely<Database>, config: AppContext['config'], at: Date, notices: LogoutNotice[]): Promise<number> {
  if (notices.length === 0) return 0;
  const listening = await listeningServices(tx, config);
  const due = notices.filter((n) => listening.has(n.clientId));
  if (due.length === 0) return 0;
  const now = at.toISOString();
  await tx
    .insertInto('outbox')
    .values(
      due.map((n) => ({
        id: randomId(),
        channel: BACKCHANNEL_CHANNEL,
        purpose: 'backchannel_logout',
        recipient: n.clientId,
        payload: JSON.stringify({ accountId: n.accountId, sid: n.sid }),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        created_at: now,
        sent_at: null,
      })),
    )
    .execute();
  return due.length;
}
