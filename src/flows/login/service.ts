import { audit } from '../../audit/audit.js';
import { checkCredentials } from '../../auth/credentials.js';
import { hashPassword } from '../../auth/passwords.js';
import { canLogIn } from '../../domain/account-status.js';
import { createSession } from '../../sessions/sessions.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition } from '../kernel/types.js';
import { credentialsInput, fields, safeReturnTo, type LoginData } from './machine.js';

/**
 * Signs a person in with username and password.
 * Produces `auth.invalid_credentials` (unknown user, wrong password, account not active),
 * `auth.account_locked`, `auth.federated_only`.
 */
export const loginFlow: FlowDefinition<LoginData> = {
  kind: 'login',
  secretFields: ['password'],
  async start(_ctx, _req, query) {
    const returnTo = safeReturnTo(query.return_to);
    return { state: 'awaiting_credentials', data: returnTo ? { returnTo } : {} };
  },
  describe(_state, data) {
    // The return address is shown so that other ways of signing in (SPID) can carry it along.
    return { fields, actions: ['submit'], data: data.returnTo ? { returnTo: data.returnTo } : {} };
  },
  async step(ctx, flow, _action, input, req) {
    const parsed = parseInput(credentialsInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const { username, password } = parsed.value;
    const checked = await checkCredentials(ctx, username, password, req.meta, req.locale, {
      accept: (a) => canLogIn(a.status),
    });
    if (!checked.ok) return checked;
    const { account } = checked;
    const newHash = checked.rehash ? await hashPassword(password) : null;
    const now = ctx.clock.now();
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result: { username: account.username },
      async commit(tx) {
        await checked.onSuccess(tx);
        if (newHash) await tx.updateTable('accounts').set({ password_hash: newHash }).where('id', '=', account.id).execute();
        const session = await createSession(tx, account.id, now, ctx.config.login.sessionHours * 3_600_000, {
          ip: req.meta.ip,
          userAgent: req.meta.userAgent ?? null,
        });
        await audit(tx, now, {
          actor: `account:${account.id}`,
          action: 'login.succeeded',
          accountId: account.id,
          personId: account.personId,
          ip: req.meta.ip,
          correlationId: req.meta.correlationId,
          details: { channel: req.channel },
        });
        return { sessionToken: session.token, sessionExpiresAt: session.expiresAt };
      },
    };
  },
  browserNext: (flow) => flow.data.returnTo ?? '/account',
};
