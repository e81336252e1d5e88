import { audit } from '../../audit/audit.js';
import { activateAccount } from '../../accounts/activate.js';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import { spidMayUse } from '../../domain/account-status.js';
import { nameKeyColumns } from '../../domain/name-key.js';
import { AppError } from '../../errors/app-error.js';
import { revokeAccountSessions } from '../../sessions/sessions.js';
import { link, openSpidSession } from '../../spid/accounts.js';
import { revokeOidcForAccount } from '../../oidc/revoke.js';
import type { FlowDefinition } from '../kernel/types.js';
import { alignedValues, spidSide, states, type AlignmentData } from './machine.js';

/**
 * Alignment handoff: only the SPID assertion consumer starts this flow, passing its data through
 * this map for the duration of one createFlow call; a request from outside finds nothing here.
 */
export const alignmentHandoff = new Map<string, AlignmentData>();

/**
 * A person with local credentials who signed in with SPID confirms that the SPID data replace
 * what is on file; the account is then linked and federated only (password destroyed, sessions
 * and codes ended). Produces `spid.identity_mismatch` (the record's codice fiscale is no longer
 * the SPID one, or the identity got linked meanwhile), `flow.wrong_state` (the account changed).
 */
export const spidAlignmentFlow: FlowDefinition<AlignmentData> = {
  kind: 'spid-alignment',
  states,
  lifetimeSeconds: () => 15 * 60,
  async start(_ctx, _req, query) {
    const key = query.handoff ?? '';
    const data = alignmentHandoff.get(key);
    alignmentHandoff.delete(key);
    if (!data) throw new AppError('flow.not_found');
    return { state: 'awaiting_confirmation', data };
  },
  describe(_state, data) {
    return { fields: [], actions: ['submit', 'cancel'], data: { spid: spidSide(data.identity), onFile: data.onFile } };
  },
  async step(ctx, flow, action, _input, req) {
    const d = flow.data;
    const now = ctx.clock.now();
    const actor = `account:${d.accountId}`;
    if (action === 'cancel') {
      return {
        ok: true,
        state: 'completed',
        data: { ...d, cancelled: true },
        result: { linked: false },
        async commit(tx) {
          await audit(tx, now, { actor, action: 'spid.alignment_cancelled', accountId: d.accountId, personId: d.personId, ip: req.meta.ip, correlationId: req.meta.correlationId, details: { idp: d.identity.idp } });
        },
      };
    }
    const db = ctx.db.kysely;
    const account = await findAccountById(db, d.accountId);
    const person = await findPerson(db, d.personId);
    // SPID is personal: the record must still carry exactly this codice fiscale.
    if (!account || !person || account.personId !== person.id || (person.taxCode ?? '').toUpperCase() !== d.identity.taxCode) {
      return { ok: false, code: 'spid.identity_mismatch', status: 409 };
    }
    if (account.version !== d.accountVersion || account.federatedOnly) return { ok: false, code: 'flow.wrong_state', status: 409 };
    // Suspended or ended by the registrar meanwhile: not brought back by aligning.
    if (!spidMayUse(account.status)) return { ok: false, code: 'spid.account_unavailable', status: 403 };
    const taken = await db.selectFrom('spid_identities').select('account_id').where('tax_code', '=', d.identity.taxCode).executeTakeFirst();
    if (taken) return { ok: false, code: 'spid.identity_mismatch', status: 409 };
    const before = { givenName: person.givenName, familyName: person.familyName, birthDate: person.birthDate, taxCode: person.taxCode, email: person.personalEmail };
    const after = alignedValues(before, spidSide(d.identity));
    return {
      ok: true,
      state: 'completed',
      data: d,
      result: { username: account.username, linked: true, next: d.returnTo ?? '/account' },
      async commit(tx) {
        const givenName = after.givenName ?? person.givenName;
        const familyName = after.familyName ?? person.familyName;
        await tx
          .updateTable('persons')
          .set({
            given_name: givenName,
            family_name: familyName,
            ...nameKeyColumns(givenName, familyName),
            birth_date: after.birthDate,
            personal_email: after.email,
            personal_email_lower: after.email?.toLowerCase() ?? null,
            updated_at: now.toISOString(),
          })
          .where('id', '=', person.id)
          .execute();
        const res = await tx
          .updateTable('accounts')
          .set({ password_hash: null, password_changed_at: null, federated_only: 1, updated_at: now.toISOString(), version: account.version + 1 })
          .where('id', '=', account.id)
          .where('version', '=', account.version)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw new AppError('flow.wrong_state');
        if (account.status !== 'active') {
          // Not yet activated (an enrolment password on file): activated as a password
          // activation would be, its institutional address included.
          await activateAccount(ctx, tx, { account: { ...account, version: account.version + 1 }, person, passwordHash: null, method: 'spid', at: now, meta: req.meta, language: req.language, details: { idp: d.identity.idp, level: d.identity.level } });
        }
        await link(tx, account.id, person.id, d.identity, now, req.meta);
        const ended = await revokeAccountSessions(tx, account.id, now);
        // The password is gone: so is every single sign-on grant obtained with it (refresh tokens
        // included), as after a password change.
        await revokeOidcForAccount(tx, account.id, { config: ctx.config, at: now });
        await tx
          .updateTable('one_time_codes')
          .set({ revoked_at: now.toISOString() })
          .where('subject', '=', account.id)
          .where('used_at', 'is', null)
          .where('revoked_at', 'is', null)
          .execute();
        await audit(tx, now, {
          actor,
          action: 'spid.aligned',
          accountId: account.id,
          personId: person.id,
          ip: req.meta.ip,
          correlationId: req.meta.correlationId,
          details: { idp: d.identity.idp, level: d.identity.level, before, after, passwordDestroyed: true, sessionsEnded: ended },
        });
        const s = await openSpidSession(ctx, tx, account.id, d.identity, req.meta, now);
        await audit(tx, now, { actor, action: 'login.succeeded', accountId: account.id, personId: person.id, ip: req.meta.ip, correlationId: req.meta.correlationId, details: { channel: 'spid', idp: d.identity.idp, level: d.identity.level } });
        return { sessionToken: s.token, sessionExpiresAt: s.expiresAt };
      },
    };
  },
};
