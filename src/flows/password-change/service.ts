import { findAccountById } from '../../accounts/repository.js';
import { audit } from '../../audit/audit.js';
import { checkCredentials } from '../../auth/credentials.js';
import { checkNewPassword, policyHint } from '../../auth/new-password.js';
import { hashPassword } from '../../auth/passwords.js';
import { enqueueAccountProvisioning } from '../../provisioning/enqueue.js';
import { translate } from '../../i18n/index.js';
import { revokeOidcForAccount } from '../../oidc/revoke.js';
import { revokeAccountSessions } from '../../sessions/sessions.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition } from '../kernel/types.js';
import { fields, passwordsInput, states, type PasswordChangeData } from './machine.js';

/**
 * Changes the signed-in person's password; their other sessions end.
 * Produces `auth.invalid_credentials` (wrong current password), `auth.account_locked`,
 * `password.policy`, `password.mismatch`.
 */
export const passwordChangeFlow: FlowDefinition<PasswordChangeData> = {
  kind: 'password-change',
  states,
  requiresSession: true,
  secretFields: ['currentPassword', 'newPassword', 'newPasswordConfirm'],
  async start() {
    return { state: 'awaiting_passwords', data: {} };
  },
  describe(_s, _d, ctx, locale) {
    return { fields: fields(policyHint(ctx, (k, p) => translate(locale, k, p))), actions: ['submit'], data: {} };
  },
  async step(ctx, flow, _action, input, req) {
    const parsed = parseInput(passwordsInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const v = parsed.value;
    const me = await findAccountById(ctx.db.kysely, flow.accountId!);
    if (!me) return { ok: false, code: 'auth.unauthenticated', status: 401 };
    const weak = checkNewPassword(ctx, v.newPassword, v.newPasswordConfirm, { username: me.username, current: v.currentPassword });
    if (weak) return weak;
    const checked = await checkCredentials(ctx, me.username, v.currentPassword, req.meta, req.locale, {
      accept: (a) => a.id === me.id && a.status === 'active',
    });
    if (!checked.ok) return { ...checked, ...(checked.code === 'auth.invalid_credentials' ? { fields: { currentPassword: 'auth.invalid_credentials' } } : {}) };
    const hash = await hashPassword(v.newPassword, req.meta.ip);
    const now = ctx.clock.now();
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result: { username: me.username },
      async commit(tx) {
        await tx
          .updateTable('accounts')
          .set({ password_hash: hash, password_changed_at: now.toISOString(), updated_at: now.toISOString(), version: me.version + 1 })
          .where('id', '=', me.id)
          .execute();
        await enqueueAccountProvisioning(ctx, tx, now, me.id, ['set_password']);
        const ended = await revokeAccountSessions(tx, me.id, now, req.session?.sessionId);
        // Single sign-on sessions and refresh tokens issued to campus services end as well.
        await revokeOidcForAccount(tx, me.id, { config: ctx.config, at: now });
        await audit(tx, now, {
          actor: `account:${me.id}`,
          action: 'password.changed',
          accountId: me.id,
          personId: me.personId,
          ip: req.meta.ip,
          correlationId: req.meta.correlationId,
          details: { otherSessionsEnded: ended },
        });
      },
    };
  },
};
