import type { AppContext } from '../../app/context.js';
import { audit } from '../../audit/audit.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition, Tx } from '../kernel/types.js';
import type { PopulationId } from '../../config/institution-schema.js';
import { usernameEmail, type UsernameNext } from '../registration/emails.js';
import { emailOnly, fields, type UsernameRecoveryData, states } from './machine.js';

/** Accounts whose address on file is `lower`: the person's personal email or the registration email. */
export async function accountsByEmail(db: Tx, lower: string, at: Date) {
  return db
    .selectFrom('accounts')
    .leftJoin('persons', 'persons.id', 'accounts.person_id')
    .leftJoin('registrations', 'registrations.account_id', 'accounts.id')
    .select([
      'accounts.id as id',
      'accounts.username as username',
      'accounts.status as status',
      'accounts.federated_only as federatedOnly',
      'accounts.person_id as personId',
      'persons.population as population',
      'persons.given_name as givenName',
      'persons.personal_email as personalEmail',
      'accounts.email as email',
    ])
    .where('accounts.status', 'not in', ['purged', 'expired'])
    // A registration past its lifetime is void even before the job removes it: its username is
    // free again and cannot sign in, so it is nobody's to recover.
    .where((eb) => eb.or([eb('accounts.status', '!=', 'pending_verification'), eb('registrations.expires_at', 'is', null), eb('registrations.expires_at', '>', at.toISOString())]))
    .where((eb) => eb.or([eb('accounts.email_lower', '=', lower), eb('persons.personal_email_lower', '=', lower)]))
    .execute();
}

/**
 * What the reminder tells an account to do: an account that can sign in may reset its password (or,
 * signing in only with SPID, use SPID); one not yet active is activated the way its population is (a reset would send nothing); a
 * registration not yet confirmed is confirmed; a suspended or locked account gets its name only.
 */
function nextFor(ctx: AppContext, a: { status: string; population: string | null; federatedOnly: number }): UsernameNext {
  if (a.status === 'active') return a.federatedOnly === 1 ? 'spid' : 'reset';
  if (a.status === 'pending_verification') return 'confirm';
  if (a.status !== 'pending_activation') return 'none';
  const ways = (a.population ? ctx.config.populations[a.population as PopulationId]?.activation : undefined) ?? [];
  if (ways.includes('pin')) return 'activate-pin';
  if (ways.includes('password')) return 'activate-password';
  if (ways.includes('referent')) return 'referent';
  return 'none';
}

/** At most one reminder per address and minute: the form cannot be used to flood a mailbox. */
/** Whether a message of `purpose` went to any of `to` (addresses as stored) in the last minute. */
async function recentlySent(ctx: AppContext, to: string[], purpose: string): Promise<boolean> {
  const since = new Date(ctx.clock.now().getTime() - 60_000).toISOString();
  const r = await ctx.db.kysely.selectFrom('outbox').select('id').where('purpose', '=', purpose).where('recipient', 'in', to).where('created_at', '>=', since).executeTakeFirst();
  return r !== undefined;
}

/**
 * Sends the username to the address on file. The answer is the same whether or not the address
 * is known (API.md), also for an account that signs in only with SPID: its reminder says so, to
 * the address on file, never to the caller. Produces `validation.failed`.
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
    const now = ctx.clock.now();
    const found = await accountsByEmail(ctx.db.kysely, email.toLowerCase(), now);
    // The address on file that matched (never an address typed by the caller that is not on file):
    // the minute's limit is counted on it, however the caller spelt it.
    const targets = found.map((a) => ({ ...a, to: [a.personalEmail, a.email].find((x) => x?.toLowerCase() === email.toLowerCase())! }));
    const skip = targets.length > 0 && (await recentlySent(ctx, [...new Set(targets.map((a) => a.to))], 'username_recovery'));
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result: {},
      async commit(tx) {
        if (skip) return;
        // One email per address, naming each of its accounts with the step that helps it. An
        // address is one whatever the case each record spells it in (the registrar's
        // `Mario.Rossi@…`, the registration's `mario.rossi@…`): not one email per spelling.
        const byAddress = new Map<string, typeof targets>();
        for (const a of targets) byAddress.set(a.to.toLowerCase(), [...(byAddress.get(a.to.toLowerCase()) ?? []), a]);
        for (const accounts of byAddress.values()) {
          const first = accounts[0]!;
          await enqueueMessage(tx, now, usernameEmail(ctx, req.locale, { to: first.to, name: first.givenName ?? first.username, accounts: accounts.map((a) => ({ username: a.username, next: nextFor(ctx, a) })) }));
          for (const a of accounts) await audit(tx, now, { actor: 'anonymous', action: 'username.recovery_sent', accountId: a.id, personId: a.personId, ip: req.meta.ip, correlationId: req.meta.correlationId });
        }
      },
    };
  },
};
