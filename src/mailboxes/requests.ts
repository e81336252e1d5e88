import type { Kysely, Selectable } from 'kysely';
import type { Database, MailboxRequestTable } from '../db/schema.js';
import type { Tx } from '../flows/kernel/types.js';
import type { AppContext } from '../app/context.js';
import type { AccountStatus } from '../domain/account-status.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { referentsOf } from '../org-units/referents.js';
import { referentPageUrl, sendMailboxMail } from './mail.js';

export type MailboxRequestRow = Selectable<MailboxRequestTable>;

/**
 * Account statuses that set a pending request aside (the registrar's record ceased or was
 * suspended, the account ended): referents neither see it nor decide it, nor are reminded of it,
 * since the activation link an approval sends could not be used. It comes back if the account
 * does before the request expires.
 */
export const requestSetAsideStatuses: AccountStatus[] = ['suspended', 'expired', 'purged'];

/** The pending request of an account, if any. */
export async function pendingRequestOf(db: Kysely<Database>, accountId: string): Promise<MailboxRequestRow | null> {
  const r = await db.selectFrom('mailbox_requests').selectAll().where('account_id', '=', accountId).where('status', '=', 'pending').executeTakeFirst();
  return r ?? null;
}

/**
 * Finishes the mailbox-request flow waiting on a request, so the requester's page and the API
 * show the outcome. The flow is claimed by its version like any step; a flow already gone is left alone.
 */
export async function completeRequestFlow(tx: Tx, flowId: string | null, result: { address: string | null; status: string }, at: Date): Promise<void> {
  if (!flowId) return;
  const flow = await tx.selectFrom('flows').select(['data', 'version', 'state']).where('id', '=', flowId).executeTakeFirst();
  if (!flow || flow.state === 'completed') return;
  const stored = JSON.parse(flow.data) as { d: Record<string, unknown> };
  await tx
    .updateTable('flows')
    .set({ state: 'completed', version: flow.version + 1, data: JSON.stringify({ d: stored.d, r: result }), updated_at: at.toISOString() })
    .where('id', '=', flowId)
    .where('version', '=', flow.version)
    .execute();
}

/**
 * The registrar moved a person to another office (an import changed their `orgUnit`): their
 * pending mailbox request moves with them, so the referents of the new office decide it, and
 * those of the old one no longer can. The new office's referents get the "new request" notice
 * (its reminder is counted afresh); the move is audited. Inside the import's transaction.
 */
export async function moveRequestsWithPerson(
  ctx: AppContext,
  tx: Tx,
  person: { id: string; givenName: string; familyName: string },
  to: string | null,
  how: { actor: string; at: Date; meta?: RequestMeta | undefined },
): Promise<void> {
  const pending = await tx.selectFrom('mailbox_requests').select(['id', 'org_unit', 'account_id']).where('person_id', '=', person.id).where('status', '=', 'pending').execute();
  for (const r of pending) {
    if (r.org_unit === to) continue;
    await tx.updateTable('mailbox_requests').set({ org_unit: to, reminded_at: null }).where('id', '=', r.id).execute();
    // Nobody decides their own request.
    const referents = to ? (await referentsOf(ctx, tx, to)).filter((x) => x.id !== r.account_id) : [];
    for (const ref of referents) {
      if (ref.email) await sendMailboxMail(ctx, tx, 'referentNew', ref.email, ref.locale, { name: `${person.givenName} ${person.familyName}`, office: to, url: referentPageUrl(ctx) });
    }
    await audit(tx, how.at, {
      actor: how.actor,
      action: 'mailbox.request_moved',
      accountId: r.account_id,
      personId: person.id,
      ip: how.meta?.ip ?? null,
      correlationId: how.meta?.correlationId ?? null,
      details: { requestId: r.id, from: r.org_unit, to, referents: referents.map((x) => x.username) },
    });
  }
}
