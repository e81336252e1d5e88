import type { AppContext } from '../../app/context.js';
import { audit } from '../../audit/audit.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition, Tx } from '../kernel/types.js';
import { usernameEmail } from '../registration/emails.js';
import { emailOnly, fields, type UsernameRecoveryData, states } from './machine.js';

/** Accounts whose address on file is `lower`: the person's personal email or the registration email. */
export async function accountsByEmail(db: Tx, lower: string) {
  return db
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .select([
      'accounts.id as id',
      'accounts.username as username',
      'accounts.status as status',
      'accounts.federated_only as federatedOnly',
      'accounts.person_id as personId',
      'persons.given_name as givenName',
      'persons.personal_email as personalEmail',
      'accounts.email as email',
    ])
    .where('accounts.status', 'not in', ['purged', 'expired'])
    .where((eb) => eb.or([eb('accounts.email_lower', '=', lower), eb('persons.personal_email_lower', '=', lower)]))
    .execute();
}

/** At most one reminder per address and minute: the form cannot be used to flood a mailbox. */
async function recentlySent(ctx: AppContext, to: string, purpose: string): Promise<boolean> {
  const since = new Date(ctx.clock.now().getTime() - 60_000).toISOString();
  const r = await ctx.db.kysely.selectFrom('outbox').select('id').where('purpose', '=', purpose).where('recipient', '=', to).where('created_at', '>=', since).executeTakeFirst();
  return r !== undefined;
}

/**
 * Sends the username to the address on file. The answer is the same whether or not the address
 * is known; only accounts that can sign in only with SPID are refused (`auth.federated_only`),
 * since a username would not help them. Produces `validation.failed`, `auth.federated_only`.
 */
export const usernameRecoveryFlow: FlowDefinition<UsernameRecoveryData> = {
  kind: 'username-recovery',
  states,
  async start() {
    return { state: 'awaiting_email', data: {} };
  },
  describe(_s, _d, ctx) {
    return { fields, actions: ['submit'], data: { helpdesk: ctx.config.institution.helpdeskEmail ?? null } };
  },
  async step(ctx, flow, _action, input, req) {
    const parsed = parseInput(emailOnly, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const email = parsed.value.email;
    const found = await accountsByEmail(ctx.db.kysely, email.toLowerCase());
    if (found.length > 0 && found.every((a) => a.federatedOnly === 1)) return { ok: false, code: 'auth.federated_only' };
    const targets = found.filter((a) => a.federatedOnly !== 1);
    const skip = targets.length > 0 && (await recentlySent(ctx, email, 'username_recovery'));
    const now = ctx.clock.now();
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result: {},
      async commit(tx) {
        if (skip) return;
        for (const a of targets) {
          // The address on file that matched (never an address typed by the caller that is not on file).
          const to = [a.personalEmail, a.email].find((x) => x?.toLowerCase() === email.toLowerCase())!;
          await enqueueMessage(tx, now, usernameEmail(ctx, req.locale, { to, name: a.givenName ?? a.username, username: a.username }));
          await audit(tx, now, { actor: 'anonymous', action: 'username.recovery_sent', accountId: a.id, personId: a.personId, ip: req.meta.ip, correlationId: req.meta.correlationId });
        }
      },
    };
  },
};
