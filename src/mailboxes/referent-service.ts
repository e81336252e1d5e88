import { assignAddress } from '../accounts/mailbox.js';
import { findAccountById, findAccountByUsername, findPerson } from '../accounts/repository.js';
import type { Account } from '../accounts/types.js';
import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AppError } from '../errors/app-error.js';
import { controlInLines } from '../flows/kernel/input.js';
import { enqueueAccountProvisioning } from '../provisioning/enqueue.js';
import { officesCoveredBy } from '../org-units/referents.js';
import { issueActivationLink } from './activation-link.js';
import { linkReplacesPassword, noticeAddress, sendMailboxMail } from './mail.js';
import { completeRequestFlow, requestSetAsideStatuses } from './requests.js';

/** A pending request as a referent sees it. */
export interface PendingRequestView {
  id: string;
  username: string;
  givenName: string;
  familyName: string;
  population: string;
  orgUnit: string | null;
  orgUnitName: string | null;
  note: string | null;
  createdAt: string;
  expiresAt: string;
}

/**
 * The signed-in referent: an active account holding the `referent` role.
 * Produces `auth.unauthenticated`, `auth.forbidden`.
 */
export async function requireReferent(ctx: AppContext, session: { accountId: string } | null): Promise<Account> {
  if (!session) throw new AppError('auth.unauthenticated');
  const account = await findAccountById(ctx.db.kysely, session.accountId);
  if (!account || account.status !== 'active') throw new AppError('auth.unauthenticated');
  if (!account.roles.includes('referent')) throw new AppError('auth.forbidden');
  return account;
}

/** Pending requests of the offices a referent covers, oldest first. */
export async function listPendingRequests(ctx: AppContext, referent: Account): Promise<PendingRequestView[]> {
  const offices = [...(await officesCoveredBy(ctx, referent))];
  if (offices.length === 0) return [];
  const rows = await ctx.db.kysely
    .selectFrom('mailbox_requests as r')
    .innerJoin('accounts as a', 'a.id', 'r.account_id')
    .innerJoin('persons as p', 'p.id', 'r.person_id')
    .leftJoin('org_units as o', 'o.code', 'r.org_unit')
    .select(['r.id', 'a.username', 'p.given_name', 'p.family_name', 'p.population', 'r.org_unit', 'o.name as org_name', 'r.comment', 'r.created_at', 'r.expires_at'])
    .where('r.status', '=', 'pending')
    .where('a.status', 'not in', requestSetAsideStatuses)
    .where('r.org_unit', 'in', offices)
    .where('r.expires_at', '>', ctx.clock.now().toISOString())
    // Nobody decides their own request: it waits for another referent of the office.
    .where('r.account_id', '!=', referent.id)
    .orderBy('r.created_at', 'asc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    givenName: r.given_name,
    familyName: r.family_name,
    population: r.population,
    orgUnit: r.org_unit,
    orgUnitName: r.org_name ?? null,
    note: r.comment,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  }));
}

/**
 * Approves or rejects a pending request of one of the referent's offices. Approval assigns the
 * address by the population's pattern and mails a one-time activation link to the person's
 * personal address; rejection mails the referent's reason. The decision, the flow's outcome, the
 * message and the audit entry commit together; of two concurrent decisions one wins.
 * Produces `mailbox.request_not_found` (unknown, decided, expired, of another office, the referent's own, or set aside),
 * `validation.failed` (a rejection without a reason), `mailbox.not_available`,
 * `mailbox.requester_not_eligible` (approving the request of school staff now on a short-term substitute appointment).
 */
export async function decideRequest(
  ctx: AppContext,
  referent: Account,
  requestId: string,
  decision: 'approve' | 'reject',
  comment: string | null,
  meta: RequestMeta,
): Promise<{ name: string; address: string | null; status: 'approved' | 'rejected' }> {
  const reason = comment?.trim() ?? '';
  if (reason.length > 1000) throw new AppError('validation.failed', { fields: { comment: 'field.too_long' } });
  // The reason goes to the requester by email: line breaks, but no other control character or
  // mark that reverses the text (a NUL also failed the decision on PostgreSQL).
  if (controlInLines.test(reason)) throw new AppError('validation.failed', { fields: { comment: 'field.control_character' } });
  if (decision === 'reject' && reason === '') throw new AppError('validation.failed', { fields: { comment: 'field.required' } });
  const offices = await officesCoveredBy(ctx, referent);
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  const req = await db.selectFrom('mailbox_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
  if (!req || req.status !== 'pending' || !req.org_unit || !offices.has(req.org_unit) || req.expires_at <= now.toISOString() || req.account_id === referent.id) {
    throw new AppError('mailbox.request_not_found');
  }
  const account = await findAccountById(db, req.account_id);
  const person = await findPerson(db, req.person_id);
  if (!account || !person || requestSetAsideStatuses.includes(account.status)) throw new AppError('mailbox.request_not_found');
  // The ministry's rule holds when the request is decided too: the registrar may have listed the
  // requester as a short-term substitute since they asked, and such an appointment gives no mailbox.
  if (decision === 'approve' && person.population === 'school_staff' && person.contractType === 'short_term_substitute') throw new AppError('mailbox.requester_not_eligible');
  const name = `${person.givenName} ${person.familyName}`;
  const to = noticeAddress(person, account);
  const out = await db.transaction().execute(async (tx) => {
    const status: 'approved' | 'rejected' = decision === 'approve' ? 'approved' : 'rejected';
    const claimed = await tx
      .updateTable('mailbox_requests')
      .set({ status, decided_by: referent.id, decided_at: now.toISOString(), ...(decision === 'reject' ? { comment: reason } : {}) })
      .where('id', '=', req.id)
      .where('status', '=', 'pending')
      // Still with the office it was read with: an import that moved it meanwhile hands it over.
      .where('org_unit', '=', req.org_unit)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new AppError('mailbox.request_not_found');
    let address: string | null = null;
    if (decision === 'approve') {
      address = account.email ?? (await assignAddress(ctx, tx, person, account.username));
      if (!address) throw new AppError('mailbox.not_available');
      await tx
        .updateTable('accounts')
        .set({ email: address, email_lower: address.toLowerCase(), updated_at: now.toISOString(), version: account.version + 1 })
        .where('id', '=', account.id)
        .execute();
      // An active account's entry on the mail platform and directory takes the address now (a
      // pending one is provisioned when the link activates it).
      if (account.status === 'active') await enqueueAccountProvisioning(ctx, tx, now, account.id, ['ensure']);
      await tx.updateTable('mailbox_requests').set({ address }).where('id', '=', req.id).execute();
      const link = await issueActivationLink(ctx, tx, account.id);
      if (to) await sendMailboxMail(ctx, tx, 'approved', to, req.locale, { name, address, url: link.url, hours: link.hours, replacesPassword: linkReplacesPassword(account) });
    } else if (to) {
      await sendMailboxMail(ctx, tx, 'rejected', to, req.locale, { name, comment: reason });
    }
    await completeRequestFlow(tx, req.flow_id, { address, status }, now);
    await audit(tx, now, {
      actor: `account:${referent.id}`,
      action: decision === 'approve' ? 'mailbox.approved' : 'mailbox.rejected',
      accountId: account.id,
      personId: person.id,
      ip: meta.ip,
      correlationId: meta.correlationId,
      details: { requestId: req.id, orgUnit: req.org_unit, referent: referent.username, ...(address ? { address } : {}), ...(reason ? { comment: reason } : {}) },
    });
    return { name, address, status };
  });
  ctx.kickOutbox();
  return out;
}

/**
 * A referent's recovery of mailbox credentials for an account of one of their offices (a school
 * or a person): the account, or `account.not_found` when it is outside their offices.
 */
export async function accountInOffices(ctx: AppContext, referent: Account, username: string): Promise<Account> {
  const account = await findAccountByUsername(ctx.db.kysely, username);
  const person = account?.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
  const offices = await officesCoveredBy(ctx, referent);
  if (!account || !person?.orgUnit || !offices.has(person.orgUnit)) throw new AppError('account.not_found');
  return account;
}
