import { audit } from '../../audit/audit.js';
import { findAccountByUsername, findPerson } from '../../accounts/repository.js';
import { checkCredentials } from '../../auth/credentials.js';
import { hashPassword } from '../../auth/passwords.js';
import { canLogIn } from '../../domain/account-status.js';
import { createSession } from '../../sessions/sessions.js';
import { parseInput } from '../kernel/input.js';
import { changeEmailOutcome, resendOutcome } from '../registration/service.js';
import { findRegistration, voidRegistrations } from '../registration/records.js';
import type { FlowDefinition, Tx } from '../kernel/types.js';
import { serviceOfInteraction } from '../../oidc/services.js';
import { localized } from '../../views/localized.js';
import { correctEmailField, credentialsInput, fields, interactionOf, safeReturnTo, states, type LoginData } from './machine.js';

/**
 * Signs a person in with username and password.
 * Produces `auth.invalid_credentials` (unknown user, wrong password, account not active),
 * `auth.account_locked`, `auth.federated_only`, `auth.email_not_verified` (a registration whose
 * address is not confirmed yet, within its link lifetime: the flow then offers
 * `resend_verification` and `change_verification_email` with `email`), `registration.link_expired`
 * (either, once the lifetime passed), and what registration answers to a resend or a new address.
 */
export const loginFlow: FlowDefinition<LoginData> = {
  kind: 'login',
  states,
  secretFields: ['password'],
  async start(ctx, _req, query) {
    const returnTo = safeReturnTo(query.return_to);
    const interactionUid = interactionOf(returnTo);
    const service = interactionUid ? await serviceOfInteraction(ctx, interactionUid) : null;
    return {
      state: 'awaiting_credentials',
      data: {
        ...(returnTo ? { returnTo } : {}),
        ...(interactionUid ? { interactionUid } : {}),
        ...(service ? { serviceName: service.name } : {}),
        ...(service?.loginHint ? { loginHint: service.loginHint } : {}),
      },
    };
  },
  describe(_s, data, _ctx, locale) {
    // A correct password for an unconfirmed registration offers to send its link again; the
    // return address is shown so that other ways of signing in (SPID) can carry it along.
    return {
      // The username the service suggested (`login_hint`) fills the field; the person may change it.
      // An unconfirmed registration may also have its address corrected, as its own page allows.
      fields: [...(data.loginHint ? fields.map((f) => (f.name === 'username' ? { ...f, value: data.loginHint } : f)) : fields), ...(data.unverified ? [correctEmailField] : [])],
      actions: data.unverified ? ['submit', 'resend_verification', 'change_verification_email'] : ['submit'],
      data: {
        ...(data.unverified ? { verificationEmail: data.unverified.email } : {}),
        ...(data.returnTo ? { returnTo: data.returnTo } : {}),
        ...(data.serviceName ? { service: localized(data.serviceName, locale) } : {}),
        ...(data.verificationResentTo ? { verificationResentTo: data.verificationResentTo } : {}),
      },
    };
  },
  async step(ctx, flow, action, input, req) {
    if ((action === 'resend_verification' || action === 'change_verification_email') && flow.data.unverified) {
      const u = flow.data.unverified;
      const { unverified: _u, ...rest } = flow.data;
      const next = (to: string) => ({ state: 'awaiting_credentials', data: { ...rest, verificationResentTo: to } });
      const out = action === 'resend_verification' ? await resendOutcome(ctx, u, req, next) : await changeEmailOutcome(ctx, u, input, req, next);
      // The registration's failure data ("void") is not the login's: keep the login's own, and the
      // offer to send again unless the registration is void (a mistyped address, "wait a minute").
      return out.ok ? out : { ...out, data: out.code === 'registration.link_expired' ? rest : flow.data };
    }
    const parsed = parseInput(credentialsInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const { username, password } = parsed.value;
    const checked = await checkCredentials(ctx, username, password, req.meta, req.locale, {
      accept: (a) => canLogIn(a.status),
      onWrongAccept: (a) => (a.status === 'pending_verification' ? { ok: false, code: 'auth.email_not_verified', status: 403 } : null),
    });
    if (!checked.ok && checked.code === 'auth.email_not_verified') {
      const acc = await findAccountByUsername(ctx.db.kysely, username);
      const reg = acc ? await findRegistration(ctx.db.kysely, acc.id) : null;
      if (!acc || !reg || reg.expires_at <= ctx.clock.now().toISOString()) {
        // Past its link lifetime a registration is void (PRODUCT: it must be repeated): the
        // expire-unverified job purges it, and until it runs its username and address are
        // already free for anyone to register (holdersOf). Once purged, this login answers
        // auth.invalid_credentials like any account that cannot sign in; it answers the same
        // before the job has run, so the answer never depends on the job's timing, and never
        // offers to resend a link that has expired. The registration is voided on the spot, as
        // the emailed link and the registration flow do.
        const stale = reg && !reg.verified_at ? acc!.id : null;
        if (!stale) return { ok: false, code: 'auth.invalid_credentials' };
        return {
          ok: false,
          code: 'auth.invalid_credentials',
          async commit(tx: Tx) {
            await voidRegistrations(ctx, tx, [stale]);
          },
        };
      }
      const person = acc.personId ? await findPerson(ctx.db.kysely, acc.personId) : null;
      if (acc.email) return { ...checked, data: { ...flow.data, unverified: { accountId: acc.id, username: acc.username, email: acc.email, givenName: person?.givenName ?? '' } } };
    }
    if (!checked.ok) return checked;
    const { account } = checked;
    const newHash = checked.rehash ? await hashPassword(password, req.meta.ip) : null;
    const now = ctx.clock.now();
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result: { username: account.username },
      async commit(tx) {
        // A hash under old parameters is replaced; a language chosen anew is remembered.
        const language = req.language && req.language !== account.locale ? req.language : null;
        if (newHash || language) {
          await tx
            .updateTable('accounts')
            .set({ ...(newHash ? { password_hash: newHash } : {}), ...(language ? { locale: language } : {}) })
            .where('id', '=', account.id)
            .execute();
        }
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
