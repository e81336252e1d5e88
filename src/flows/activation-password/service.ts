import { activateAccount } from '../../accounts/activate.js';
import { findPerson } from '../../accounts/repository.js';
import type { AppContext } from '../../app/context.js';
import { checkCredentials } from '../../auth/credentials.js';
import { checkNewPassword, policyHint } from '../../auth/new-password.js';
import { hashPassword } from '../../auth/passwords.js';
import type { PopulationId } from '../../config/institution-schema.js';
import { translate, type Locale } from '../../i18n/index.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition } from '../kernel/types.js';
import { credentialsInput, fields, states, type ActivationPasswordData } from './machine.js';

function passwordPopulations(ctx: AppContext, locale: Locale): Array<{ id: PopulationId; label: string }> {
  return (Object.entries(ctx.config.populations) as Array<[PopulationId, { activation: string[] }]>)
    .filter(([, p]) => p.activation.includes('password'))
    .map(([id]) => ({ id, label: translate(locale, `population.${id}`) }));
}

/**
 * Activation with the enrolment password (uniupo): structure + username + the password given at
 * enrolment + a new password → account active, institutional address assigned, legacy hash gone.
 * A provisional record, a wrong structure and a wrong password all answer
 * `auth.invalid_credentials`. Also produces `password.policy`, `password.mismatch`,
 * `auth.account_locked`, `activation.already_active`.
 */
export const activationPasswordFlow: FlowDefinition<ActivationPasswordData> = {
  kind: 'activation-password',
  states,
  secretFields: ['currentPassword', 'newPassword', 'newPasswordConfirm'],
  async start() {
    return { state: 'awaiting_credentials', data: {} };
  },
  describe(_state, _data, ctx, locale) {
    return {
      fields: fields(passwordPopulations(ctx, locale), policyHint(ctx, (k, p) => translate(locale, k, p))),
      actions: ['submit'],
      data: {},
    };
  },
  async step(ctx, flow, _action, input, req) {
    const parsed = parseInput(credentialsInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const v = parsed.value;
    const allowed = passwordPopulations(ctx, req.locale).some((p) => p.id === v.population);
    if (!allowed) return { ok: false, code: 'validation.failed', fields: { population: 'population.invalid' } };
    const weak = checkNewPassword(ctx, v.newPassword, v.newPasswordConfirm, { username: v.username, current: v.currentPassword });
    if (weak) return weak;

    const checked = await checkCredentials(ctx, v.username, v.currentPassword, req.meta, req.locale, {
      accept: (a) => a.status === 'pending_activation' && a.personId !== null,
      onWrongAccept: (a) => (a.status === 'active' ? { ok: false, code: 'activation.already_active', status: 409 } : null),
    });
    if (!checked.ok) return checked;
    const account = checked.account;
    const person = await findPerson(ctx.db.kysely, account.personId!);
    if (!person || person.population !== v.population) return { ok: false, code: 'auth.invalid_credentials' };

    const hash = await hashPassword(v.newPassword, req.meta.ip);
    const now = ctx.clock.now();
    const result = { username: account.username, email: null as string | null, status: 'active' };
    return {
      ok: true,
      state: 'completed',
      data: flow.data,
      result,
      async commit(tx) {
        // `password` was the method's name before the shared activation step; the audit keeps it.
        result.email = await activateAccount(ctx, tx, { account, person, passwordHash: hash, method: 'password', at: now, meta: req.meta, language: req.language, details: { credential: 'enrolment_password' } });
      },
    };
  },
};
