import { findAccountById } from '../../accounts/repository.js';
import { transitionAccount } from '../../accounts/lifecycle.js';
import type { AppContext } from '../../app/context.js';
import type { RequestMeta } from '../../audit/audit.js';
import { verifyCode } from '../../codes/one-time-codes.js';
import { auditRegistration, findRegistration, VERIFY_PURPOSE, voidRegistrations } from './records.js';
import { parseToken } from './machine.js';

export type VerifyOutcome =
  | { ok: true; username: string; flowId: string | null; already: boolean }
  | { ok: false; code: 'registration.link_expired' | 'registration.link_invalid' };

/**
 * Activates a registration from its emailed token (the browser link or the token through the
 * API), in one transaction: the code is consumed, the account becomes active, and (for the
 * browser link) the registration flow is completed too. A registration past its lifetime is
 * voided on the spot. Produces `registration.link_expired`, `registration.link_invalid`.
 */
export async function activateByToken(
  ctx: AppContext,
  token: string,
  meta: RequestMeta,
  opts: { expectAccountId?: string; completeFlow: boolean },
): Promise<VerifyOutcome> {
  const parsed = parseToken(token);
  if (!parsed || (opts.expectAccountId && parsed.subject !== opts.expectAccountId)) return { ok: false, code: 'registration.link_invalid' };
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (tx): Promise<VerifyOutcome> => {
    // Clicks on the same link at once (a double click, a mail scanner opening it first) take
    // their turn on the account row: the later ones then find the registration verified and say
    // so, instead of finding the code just used and calling the link invalid.
    if (ctx.db.dialect === 'postgres') await tx.selectFrom('accounts').select('id').where('id', '=', parsed.subject).forUpdate().execute();
    const account = await findAccountById(tx, parsed.subject);
    if (!account || account.status === 'purged') return { ok: false, code: 'registration.link_expired' };
    const reg = await findRegistration(tx, account.id);
    if (!reg) return { ok: false, code: 'registration.link_invalid' };
    if (reg.verified_at) {
      // A second click on the same link: the account is already active, say so again.
      return { ok: true, username: account.username, flowId: reg.flow_id, already: true };
    }
    if (reg.expires_at <= now.toISOString()) {
      await voidRegistrations(ctx, tx, [account.id]);
      return { ok: false, code: 'registration.link_expired' };
    }
    const res = await verifyCode(ctx, tx, VERIFY_PURPOSE, account.id, parsed.code);
    if (res === 'expired') {
      await voidRegistrations(ctx, tx, [account.id]);
      return { ok: false, code: 'registration.link_expired' };
    }
    if (res !== 'ok') return { ok: false, code: 'registration.link_invalid' };
    await transitionAccount(tx, account, 'active', { actor: `account:${account.id}`, reason: 'registration.email_verified', at: now, meta, provisioning: ctx });
    await tx.updateTable('registrations').set({ verified_at: now.toISOString() }).where('account_id', '=', account.id).execute();
    await auditRegistration(tx, now, 'registration.verified', account.id, account.personId, meta);
    if (opts.completeFlow && reg.flow_id) {
      const flow = await tx.selectFrom('flows').select(['data', 'version']).where('id', '=', reg.flow_id).where('state', '=', 'awaiting_verification').executeTakeFirst();
      if (flow) {
        // The same stored shape the flow kernel writes for a completed flow ({d, r}).
        const d = (JSON.parse(flow.data) as { d: unknown }).d;
        await tx
          .updateTable('flows')
          .set({ state: 'completed', version: flow.version + 1, data: JSON.stringify({ d, r: { username: account.username, status: 'active' } }), updated_at: now.toISOString() })
          .where('id', '=', reg.flow_id)
          .where('version', '=', flow.version)
          .execute();
      }
    }
    return { ok: true, username: account.username, flowId: reg.flow_id, already: false };
  });
}
