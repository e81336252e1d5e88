import { assignAddress, mailboxOnRequest } from '../../accounts/mailbox.js';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import type { Account, Person } from '../../accounts/types.js';
import type { AppContext } from '../../app/context.js';
import { randomId } from '../../app/secret.js';
import { audit } from '../../audit/audit.js';
import type { PopulationId } from '../../config/institution-schema.js';
import { AppError } from '../../errors/app-error.js';
import { calendarDate } from '../../i18n/dates.js';
import { translate } from '../../i18n/index.js';
import { checkEligibility } from '../../mailboxes/eligibility.js';
import { enqueueAccountProvisioning } from '../../provisioning/enqueue.js';
import { noticeAddress, referentPageUrl, sendMailboxMail } from '../../mailboxes/mail.js';
import { pendingRequestOf } from '../../mailboxes/requests.js';
import { referentsOf } from '../../org-units/referents.js';
import { parseInput } from '../kernel/input.js';
import type { Flow, FlowDefinition, StepOutcome, StepRequest, Tx } from '../kernel/types.js';
import { fields, schoolStaffInput, staffInput, states, type MailboxRequestData } from './machine.js';

type Failure = Extract<StepOutcome<MailboxRequestData>, { ok: false }>;

/** The requester and their record, checked again at every step. Produces `auth.unauthenticated`, `mailbox.*`. */
async function requester(ctx: AppContext, accountId: string): Promise<{ account: Account; person: Person; population: MailboxRequestData['population'] }> {
  const account = await findAccountById(ctx.db.kysely, accountId);
  if (!account) throw new AppError('auth.unauthenticated');
  const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
  const population = person?.population;
  if (!person || !population || !mailboxOnRequest(population) || !ctx.config.populations[population as PopulationId]?.mailbox) {
    throw new AppError('mailbox.not_available');
  }
  if (account.email) throw new AppError('mailbox.already_assigned');
  if (await pendingRequestOf(ctx.db.kysely, account.id)) throw new AppError('mailbox.request_pending');
  return { account, person, population };
}

/** Stores a pending request, tells the office's referents, and keeps the flow as long as the request. */
async function routeToReferents(
  ctx: AppContext,
  flow: Flow<MailboxRequestData>,
  req: StepRequest,
  who: { account: Account; person: Person },
  note: string | null,
): Promise<StepOutcome<MailboxRequestData>> {
  const office = who.person.orgUnit;
  // Nobody decides their own request: a referent asking for a mailbox needs another referent.
  const referents = office ? (await referentsOf(ctx, ctx.db.kysely, office)).filter((r) => r.id !== who.account.id) : [];
  if (!office || referents.length === 0) return { ok: false, code: 'mailbox.no_referent', status: 409 };
  const now = ctx.clock.now();
  const requestId = randomId();
  const expiresAt = new Date(now.getTime() + ctx.config.mailboxes.expireAfterDays * 86_400_000);
  const name = `${who.person.givenName} ${who.person.familyName}`;
  return {
    ok: true,
    state: 'awaiting_approval',
    data: { ...flow.data, requestId },
    async commit(tx: Tx) {
      // Two flows of one person submitted at once: under PostgreSQL the account row is locked so
      // the second sees the first's request (a partial unique index backs this up).
      if (ctx.db.dialect === 'postgres') await tx.selectFrom('accounts').select('id').where('id', '=', who.account.id).forUpdate().execute();
      if (await pendingRequestOf(tx, who.account.id)) throw new AppError('mailbox.request_pending');
      await tx
        .insertInto('mailbox_requests')
        .values({
          id: requestId,
          account_id: who.account.id,
          person_id: who.person.id,
          org_unit: office,
          flow_id: flow.id,
          status: 'pending',
          address: null,
          comment: note,
          decided_by: null,
          locale: req.locale,
          created_at: now.toISOString(),
          decided_at: null,
          reminded_at: null,
          expires_at: expiresAt.toISOString(),
        })
        .execute();
      // The requester can follow the request on this flow's page until a day after it expires.
      await tx.updateTable('flows').set({ expires_at: new Date(expiresAt.getTime() + 86_400_000).toISOString() }).where('id', '=', flow.id).execute();
      for (const r of referents) {
        if (r.email) await sendMailboxMail(ctx, tx, 'referentNew', r.email, r.locale, { name, office, url: referentPageUrl(ctx) });
      }
      await audit(tx, now, {
        actor: `account:${who.account.id}`,
        action: 'mailbox.requested',
        accountId: who.account.id,
        personId: who.person.id,
        ip: req.meta.ip,
        correlationId: req.meta.correlationId,
        details: { requestId, orgUnit: office, referents: referents.map((r) => r.username) },
      });
    },
  };
}

/**
 * A mailbox for the signed-in person. Staff: the request goes to the IT referents of their office.
 * School staff: eligibility is checked item by item; eligible requests are fulfilled at once (or
 * routed to a referent where configured), others get `mailbox.not_eligible` with one message per
 * failing item. Produces `mailbox.not_available`, `mailbox.already_assigned`,
 * `mailbox.request_pending`, `mailbox.no_referent`, `mailbox.not_eligible`, `validation.failed`.
 */
export const mailboxRequestFlow: FlowDefinition<MailboxRequestData> = {
  kind: 'mailbox-request',
  states,
  requiresSession: true,
  async start(ctx, req) {
    const who = await requester(ctx, req.session!.accountId);
    let officeName: string | null = null;
    if (who.population === 'staff' && who.person.orgUnit) {
      const o = await ctx.db.kysely.selectFrom('org_units').select('name').where('code', '=', who.person.orgUnit).executeTakeFirst();
      officeName = o?.name ?? who.person.orgUnit;
    }
    return { state: 'awaiting_details', data: { population: who.population, officeName } };
  },
  describe(state, data, _ctx, locale) {
    if (state !== 'awaiting_details') return { fields: [], actions: [], data: {} };
    return {
      fields: fields(data.population, (k) => translate(locale, k)),
      actions: ['submit'],
      data: { population: data.population, ...(data.officeName ? { office: data.officeName } : {}) },
    };
  },
  async step(ctx, flow, _action, input, req) {
    const who = await requester(ctx, flow.accountId!);
    const now = ctx.clock.now();
    if (who.population === 'staff') {
      const parsed = parseInput(staffInput, input);
      if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
      if (!noticeAddress(who.person, { email: null })) {
        // The activation link can only go to a personal address: without one there is no request.
        return {
          ok: false,
          code: 'mailbox.not_eligible',
          details: [{ key: 'mailbox.item.personal_email' }],
          commit: (tx) =>
            audit(tx, now, {
              actor: `account:${who.account.id}`,
              action: 'mailbox.eligibility_checked',
              accountId: who.account.id,
              personId: who.person.id,
              ip: req.meta.ip,
              correlationId: req.meta.correlationId,
              details: { eligible: false, failing: ['personal_email'] },
            }),
        };
      }
      return routeToReferents(ctx, flow, req, who, parsed.value.note ?? null);
    }
    const parsed = parseInput(schoolStaffInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const v = parsed.value;
    const failing = checkEligibility({
      accountStatus: who.account.status,
      entitlements: who.person.entitlements,
      istanzeEntitlement: ctx.config.mailboxes.istanzeEntitlement,
      personalEmail: who.person.personalEmail,
      personalEmailVerified: who.person.extra.personalEmailVerified !== false,
      recordTaxCode: who.person.taxCode,
      contractType: who.person.contractType,
      document: { type: v.documentType, number: v.documentNumber, issuer: v.documentIssuer, expiry: v.documentExpiry },
      givenTaxCode: v.taxCode,
      // A document expires at the end of its day where the institution is.
      today: calendarDate(now, ctx.config.institution.timeZone),
    });
    const decision = async (tx: Tx) =>
      audit(tx, now, {
        actor: `account:${who.account.id}`,
        action: 'mailbox.eligibility_checked',
        accountId: who.account.id,
        personId: who.person.id,
        ip: req.meta.ip,
        correlationId: req.meta.correlationId,
        // The document's number is not kept: its type and expiry are enough to explain the decision.
        details: { eligible: failing.length === 0, failing, documentType: v.documentType, documentExpiry: v.documentExpiry },
      });
    if (failing.length > 0) {
      const refused: Failure = {
        ok: false,
        code: 'mailbox.not_eligible',
        details: failing.map((item) => ({ key: `mailbox.item.${item}`, ...(item === 'tax_code' ? { field: 'taxCode' } : {}) })),
        commit: decision,
      };
      return refused;
    }
    if (ctx.config.mailboxes.schoolStaffNeedApproval) {
      const routed = await routeToReferents(ctx, flow, req, who, null);
      if (!routed.ok) return routed;
      return { ...routed, commit: async (tx) => { await decision(tx); await routed.commit?.(tx); } };
    }
    const result = { address: null as string | null, status: 'active' };
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result,
      async commit(tx) {
        await decision(tx);
        const address = await assignAddress(ctx, tx, who.person, who.account.username);
        if (!address) throw new AppError('mailbox.not_available');
        result.address = address;
        await tx
          .updateTable('accounts')
          .set({ email: address, email_lower: address.toLowerCase(), updated_at: now.toISOString(), version: who.account.version + 1 })
          .where('id', '=', who.account.id)
          .where('email', 'is', null)
          .execute();
        // The account is active already: its entry on the mail platform and directory takes the address now.
        await enqueueAccountProvisioning(ctx, tx, now, who.account.id, ['ensure']);
        await tx
          .insertInto('mailbox_requests')
          .values({
            id: randomId(),
            account_id: who.account.id,
            person_id: who.person.id,
            org_unit: who.person.orgUnit,
            flow_id: flow.id,
            status: 'fulfilled',
            address,
            comment: null,
            decided_by: null,
            locale: req.locale,
            created_at: now.toISOString(),
            decided_at: now.toISOString(),
            reminded_at: null,
            expires_at: now.toISOString(),
          })
          .execute();
        const to = noticeAddress(who.person, { email: null });
        if (to) await sendMailboxMail(ctx, tx, 'assigned', to, req.locale, { name: `${who.person.givenName} ${who.person.familyName}`, address });
        await audit(tx, now, {
          actor: `account:${who.account.id}`,
          action: 'mailbox.assigned',
          accountId: who.account.id,
          personId: who.person.id,
          ip: req.meta.ip,
          correlationId: req.meta.correlationId,
          details: { address, how: 'eligible_school_staff' },
        });
      },
    };
  },
};
