import { findAccountById, findAccountByUsername, findPerson } from '../../accounts/repository.js';
import type { Account, Person } from '../../accounts/types.js';
import type { AppContext } from '../../app/context.js';
import { audit } from '../../audit/audit.js';
import { userKey } from '../../auth/credentials.js';
import { checkNewPassword, policyHint } from '../../auth/new-password.js';
import { hashPassword } from '../../auth/passwords.js';
import { clearFailures } from '../../auth/throttle.js';
import { countIssued, issueCode, verifyCode } from '../../codes/one-time-codes.js';
import { translate } from '../../i18n/index.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import { revokeAccountSessions } from '../../sessions/sessions.js';
import { revokeOidcForAccount } from '../../oidc/revoke.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition, StepOutcome, Tx } from '../kernel/types.js';
import { resetCodeEmail, resetCodeSms } from '../registration/emails.js';
import { accountsByEmail } from '../username-recovery/service.js';
import { CODE_TTL_MINUTES, codeFields, codeInput, identifierFields, identifierInput, MAX_CODE_ATTEMPTS, passwordFields, passwordInput, type PasswordResetData, states } from './machine.js';

const PURPOSE = 'password_reset';
const HOUR = 3_600_000;

/**
 * Reset codes follow the activation PIN limits (`activation.pin` in the institution's file), per
 * account and across flows: none within `resendCooldownSeconds` of the last one, at most
 * `maxPerHour` an hour. Read inside the issuing transaction (the account row locked on
 * PostgreSQL), so concurrent requests cannot both pass.
 */
async function resetLimited(ctx: AppContext, tx: Tx, accountId: string): Promise<boolean> {
  const cfg = ctx.config.activation.pin;
  const now = ctx.clock.now().getTime();
  if (ctx.db.dialect === 'postgres') await tx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
  const { count, last } = await countIssued(ctx, PURPOSE, accountId, new Date(now - HOUR), tx);
  return count >= cfg.maxPerHour || (last !== null && now - last.getTime() < cfg.resendCooldownSeconds * 1000);
}

async function accountFor(ctx: AppContext, identifier: string): Promise<Account | null> {
  if (!identifier.includes('@')) return findAccountByUsername(ctx.db.kysely, identifier);
  const found = await accountsByEmail(ctx.db.kysely, identifier.trim().toLowerCase(), ctx.clock.now());
  const pick = found.find((a) => a.status === 'active') ?? found[0];
  return pick ? findAccountById(ctx.db.kysely, pick.id) : null;
}

/**
 * Where a reset code may go: the personal (or registration) email on file, and the mobile when it
 * is verified (a registrar's record, or one confirmed by the person). Never the institutional
 * mailbox itself, whose password is what is being reset.
 */
export function recoveryDestinations(account: Account, person: Person | null): { email: string | null; mobile: string | null } {
  const email = person?.personalEmail ?? (person?.population === 'external' || !person ? account.email : null);
  const mobileVerified = person !== null && (person.population !== 'external' || person.extra.mobileVerified === true);
  return { email, mobile: mobileVerified ? person!.mobile : null };
}

/**
 * Resets a forgotten password with a one-time code sent to the recovery address. Codes belong to
 * the account, not the flow: a new one revokes the previous ones, so only the newest can be
 * guessed, and its attempts are shared by every flow of the account. Requests past the limits
 * (see resetLimited) answer the same and send nothing. Unknown identifiers get the same answers
 * (no code is ever issued for them); every flow counts its own wrong codes the same way, so
 * statuses never tell accounts apart. Produces
 * `validation.failed`, `auth.federated_only`, `reset.code_invalid` (429 once attempts are used
 * up), `password.policy`, `password.mismatch`.
 */
export const passwordResetFlow: FlowDefinition<PasswordResetData> = {
  kind: 'password-reset',
  states,
  secretFields: ['code', 'password', 'passwordConfirm'],
  // The identifier sent again once the code is asked for (a double submit, a stale page) is a step
  // the flow has left: 409 flow.wrong_state, as every flow answers it, not "the code is required".
  stateInputs: {
    awaiting_identifier: ['identifier'],
    awaiting_code: ['code'],
    awaiting_password: ['password', 'passwordConfirm'],
  },
  async start() {
    return { state: 'awaiting_identifier', data: {} };
  },
  describe(state, _data, ctx, locale) {
    const helpdesk = ctx.config.institution.helpdeskEmail ?? null;
    if (state === 'awaiting_identifier') return { fields: identifierFields, actions: ['submit'], data: { helpdesk } };
    if (state === 'awaiting_code') return { fields: codeFields, actions: ['submit'], data: { codeMinutes: CODE_TTL_MINUTES, helpdesk } };
    return { fields: passwordFields(policyHint(ctx, (k, p) => translate(locale, k, p))), actions: ['submit'], data: {} };
  },
  async step(ctx, flow, _action, input, req): Promise<StepOutcome<PasswordResetData>> {
    const now = ctx.clock.now();
    if (flow.state === 'awaiting_identifier') {
      const parsed = parseInput(identifierInput, input);
      if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
      const account = await accountFor(ctx, parsed.value.identifier);
      if (account?.federatedOnly) return { ok: false, code: 'auth.federated_only' };
      const eligible = account && account.status === 'active' ? account : null;
      const person = eligible?.personId ? await findPerson(ctx.db.kysely, eligible.personId) : null;
      const dest = eligible ? recoveryDestinations(eligible, person) : { email: null, mobile: null };
      if (!eligible || (!dest.email && !dest.mobile)) {
        // Pretend: the same next state, nothing sent, no code that could ever match.
        return { ok: true, state: 'awaiting_code', data: {} };
      }
      return {
        ok: true,
        state: 'awaiting_code',
        data: { accountId: eligible.id },
        async commit(tx) {
          if (await resetLimited(ctx, tx, eligible.id)) {
            await audit(tx, now, { actor: 'anonymous', action: 'password.reset_not_sent', accountId: eligible.id, personId: eligible.personId, ip: req.meta.ip, correlationId: req.meta.correlationId, details: { reason: 'limit' } });
            return;
          }
          const { code } = await issueCode(ctx, tx, { purpose: PURPOSE, subject: eligible.id, ttlMs: CODE_TTL_MINUTES * 60_000, maxAttempts: MAX_CODE_ATTEMPTS, destination: dest.email ?? dest.mobile });
          const name = person?.givenName ?? eligible.username;
          if (dest.email) await enqueueMessage(tx, now, resetCodeEmail(ctx, req.locale, { to: dest.email, name, username: eligible.username, code, minutes: CODE_TTL_MINUTES }));
          if (dest.mobile) await enqueueMessage(tx, now, resetCodeSms(ctx, req.locale, { to: dest.mobile, code, minutes: CODE_TTL_MINUTES }));
          await audit(tx, now, {
            actor: 'anonymous',
            action: 'password.reset_requested',
            accountId: eligible.id,
            personId: eligible.personId,
            ip: req.meta.ip,
            correlationId: req.meta.correlationId,
            details: { channels: [...(dest.email ? ['email'] : []), ...(dest.mobile ? ['sms'] : [])] },
          });
        },
      };
    }
    if (flow.state === 'awaiting_code') {
      const parsed = parseInput(codeInput, input);
      if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
      // The same answers whether or not a code exists: 422, then 429 from the flow's last attempt on.
      const wrong = { ok: false, code: 'reset.code_invalid', fields: { code: 'reset.code_invalid' }, countAttempt: true, ...(flow.attempts + 1 >= MAX_CODE_ATTEMPTS ? { status: 429 } : {}) } as const;
      const accountId = flow.data.accountId;
      if (!accountId || flow.attempts >= MAX_CODE_ATTEMPTS) return wrong;
      const res = await ctx.db.kysely.transaction().execute((tx) => verifyCode(ctx, tx, PURPOSE, accountId, parsed.value.code));
      if (res !== 'ok') return wrong;
      return { ok: true, state: 'awaiting_password', data: { accountId: flow.data.accountId, codeVerified: true } };
    }
    const parsed = parseInput(passwordInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const account = flow.data.codeVerified && flow.data.accountId ? await findAccountById(ctx.db.kysely, flow.data.accountId) : null;
    if (!account || account.status !== 'active') return { ok: false, code: 'flow.wrong_state', status: 409 };
    const weak = checkNewPassword(ctx, parsed.value.password, parsed.value.passwordConfirm, { username: account.username, field: 'password', confirmField: 'passwordConfirm' });
    if (weak) return weak;
    const hash = await hashPassword(parsed.value.password, req.meta.ip);
    return {
      ok: true,
      state: 'completed',
      data: {},
      result: { username: account.username },
      async commit(tx) {
        await tx
          .updateTable('accounts')
          .set({ password_hash: hash, password_changed_at: now.toISOString(), updated_at: now.toISOString(), version: account.version + 1 })
          .where('id', '=', account.id)
          .execute();
        const ended = await revokeAccountSessions(tx, account.id, now);
        // As a password change does: single sign-on sessions, grants and tokens end with it (a
        // reset is how someone takes back an account another had the password of).
        await revokeOidcForAccount(tx, account.id, { config: ctx.config, at: now });
        await clearFailures(tx, userKey(account.username));
        await audit(tx, now, { actor: `account:${account.id}`, action: 'password.reset', accountId: account.id, personId: account.personId, ip: req.meta.ip, correlationId: req.meta.correlationId, details: { sessionsEnded: ended } });
      },
    };
  },
};
