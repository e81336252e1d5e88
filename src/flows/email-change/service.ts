import { findAccountById, findPerson } from '../../accounts/repository.js';
import { audit } from '../../audit/audit.js';
import { countIssued, issueCode } from '../../codes/one-time-codes.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition, StepOutcome } from '../kernel/types.js';
import { emailChangeEmail } from '../registration/emails.js';
import { tokenInput } from '../registration/machine.js';
import { holdersOf } from '../registration/records.js';
import { resendWait } from '../registration/limits.js';
import { confirmEmailChange } from './confirm.js';
import { CONFIRM_PURPOSE, emailFields, LINK_HOURS, newEmailInput, tokenFields, type EmailChangeData, states } from './machine.js';

/**
 * Changes the registered (personal) email of the signed-in person, confirmed by a link sent to
 * the new address. Produces `validation.failed`, `email_change.same`,
 * `registration.email_registered`, `registration.link_invalid`, `registration.link_expired`,
 * `registration.resend_too_soon`.
 */
export const emailChangeFlow: FlowDefinition<EmailChangeData> = {
  kind: 'email-change',
  states,
  requiresSession: true,
  secretFields: ['token'],
  lifetimeSeconds: () => LINK_HOURS * 3600,
  async start() {
    return { state: 'awaiting_email', data: {} };
  },
  describe(state, data) {
    if (state === 'awaiting_email') return { fields: emailFields, actions: ['submit'], data: {} };
    return { fields: tokenFields, actions: ['submit', 'resend'], data: { email: data.newEmail, linkLifetimeHours: LINK_HOURS } };
  },
  async step(ctx, flow, action, input, req): Promise<StepOutcome<EmailChangeData>> {
    const me = await findAccountById(ctx.db.kysely, flow.accountId!);
    if (!me) return { ok: false, code: 'auth.unauthenticated', status: 401 };
    const person = me.personId ? await findPerson(ctx.db.kysely, me.personId) : null;
    const now = ctx.clock.now();
    if (flow.state === 'awaiting_confirmation' && action === 'submit') {
      const parsed = parseInput(tokenInput, input);
      if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
      const res = await confirmEmailChange(ctx, parsed.value.token, req.meta, { expectFlowId: flow.id, completeFlow: false });
      if (!res.ok) return { ok: false, code: res.code, fields: { token: res.code }, ...(res.code === 'registration.link_expired' ? { status: 410 } : {}) };
      return { ok: true, state: 'completed', data: flow.data, result: { email: res.email } };
    }
    let email: string;
    if (flow.state === 'awaiting_email') {
      const parsed = parseInput(newEmailInput, input);
      if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
      email = parsed.value.email;
      const current = person?.personalEmail ?? me.email;
      if (current?.toLowerCase() === email.toLowerCase()) return { ok: false, code: 'email_change.same', fields: { email: 'email_change.same' } };
      const held = await holdersOf(ctx, ctx.db.kysely, { emailLower: email.toLowerCase() }, me.id);
      if (held.emailTaken) return { ok: false, code: 'registration.email_registered', status: 422, fields: { email: 'registration.email_registered' } };
    } else {
      email = flow.data.newEmail!;
      const { last } = await countIssued(ctx, CONFIRM_PURPOSE, flow.id, new Date(now.getTime() - ctx.config.registration.resendIntervalSeconds * 1000));
      const wait = last ? resendWait(ctx, last) : 0;
      if (wait > 0) return { ok: false, code: 'registration.resend_too_soon', status: 429, params: { seconds: wait } };
    }
    return {
      ok: true,
      state: 'awaiting_confirmation',
      data: { newEmail: email },
      async commit(tx) {
        const { code } = await issueCode(ctx, tx, { purpose: CONFIRM_PURPOSE, subject: flow.id, ttlMs: LINK_HOURS * 3_600_000, format: 'token', destination: email });
        // The email says the link works for LINK_HOURS from now: the flow lives as long, however
        // long ago the form was opened.
        await tx.updateTable('flows').set({ expires_at: new Date(now.getTime() + LINK_HOURS * 3_600_000).toISOString() }).where('id', '=', flow.id).execute();
        await enqueueMessage(tx, now, emailChangeEmail(ctx, req.locale, { to: email, name: person?.givenName ?? me.username, username: me.username, token: `${flow.id}.${code}`, hours: LINK_HOURS }));
        await audit(tx, now, { actor: `account:${me.id}`, action: 'account.email_change_requested', accountId: me.id, personId: me.personId, ip: req.meta.ip, correlationId: req.meta.correlationId });
      },
    };
  },
};
