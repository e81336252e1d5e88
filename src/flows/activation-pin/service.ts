import { transitionAccount } from '../../accounts/lifecycle.js';
import { assignAddress } from '../../accounts/mailbox.js';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import type { AppContext } from '../../app/context.js';
import { randomId } from '../../app/secret.js';
import { audit } from '../../audit/audit.js';
import { checkNewPassword, policyHint } from '../../auth/new-password.js';
import { hashPassword } from '../../auth/passwords.js';
import { suggestPasswords } from '../../auth/suggest-passwords.js';
import { verifyCode } from '../../codes/one-time-codes.js';
import { isValidAmka, normalizeAmka } from '../../domain/amka.js';
import { maskEmail, normalizeEmail } from '../../domain/email-mask.js';
import { checkInsuranceNumber } from '../../domain/insurance-number.js';
import { maskPhone, toE164 } from '../../domain/phone.js';
import { errorCatalog, type ErrorCode } from '../../errors/catalog.js';
import { translate, type Locale } from '../../i18n/index.js';
import { registerActivationPinTemplates } from '../../messages/activation-pin-templates.js';
import { localized } from '../../views/localized.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition, StepOutcome } from '../kernel/types.js';
import { countryOptions } from './countries.js';
import {
  PIN_PURPOSE,
  cleanPin,
  consentField,
  consentFields,
  consentInput,
  contactFields,
  contactInput,
  nationalIdFields,
  nationalIdInput,
  passwordFields,
  passwordInput,
  pinFields,
  pinInput,
  readConsents,
  states,
  type ActivationPinData,
} from './machine.js';
import { matchRecord } from './matching.js';
import { issueAndSendPin, pinLimit } from './pin-delivery.js';

registerActivationPinTemplates();

type Outcome = StepOutcome<ActivationPinData>;

const fail = (code: ErrorCode, extra: Omit<Extract<Outcome, { ok: false }>, 'ok' | 'code'> = {}): Outcome => ({
  ok: false,
  code,
  status: errorCatalog[code],
  ...extra,
});

const emptyData = (): ActivationPinData => ({
  personId: null,
  accountId: null,
  sendSms: null,
  sendEmail: null,
  destinations: [],
  contact: null,
  needsNationalId: false,
  idMode: 'amka',
  username: null,
  suggestions: [],
  resent: false,
});

function consentsOf(ctx: AppContext, locale: Locale) {
  return ctx.config.activation.consents.map((c) => ({ id: c.id, text: localized(c.text, locale), version: c.version, required: c.required }));
}

async function stepContact(ctx: AppContext, flowId: string, data: ActivationPinData, input: Record<string, unknown>, req: Parameters<FlowDefinition['step']>[4]): Promise<Outcome> {
  const parsed = parseInput(contactInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  const { mobile, email } = parsed.value;
  if (!mobile && !email) {
    return fail('validation.failed', { fields: { mobile: 'field.required', email: 'field.required' }, details: [{ key: 'activation-pin.contactRequired' }] });
  }
  const fields: Record<string, string> = {};
  const e164 = mobile ? toE164(mobile, ctx.config.institution.defaultCountry) : null;
  if (mobile && !e164) fields.mobile = 'phone.invalid';
  const lower = email ? normalizeEmail(email) : null;
  if (email && !lower) fields.email = 'email.invalid';
  if (Object.keys(fields).length > 0) return fail('validation.failed', { fields });

  const match = await matchRecord(ctx, ctx.db.kysely, { mobile: e164, email: lower });
  const contact = [mobile, email].filter(Boolean).join(', ');
  const now = ctx.clock.now();
  const safe = ctx.config.activation.enumerationSafe;
  if (match.kind !== 'match' && !safe) {
    const code = match.kind === 'already_active' ? 'activation.already_active' : 'activation.no_match';
    return fail(code, {
      data: { ...data, contact },
      async commit(tx) {
        await audit(tx, now, {
          actor: 'anonymous',
          action: code === 'activation.no_match' ? 'activation.no_match' : 'activation.already_active',
          ...(match.kind === 'already_active' ? { accountId: match.accountId, personId: match.personId } : {}),
          ip: req.meta.ip,
          correlationId: req.meta.correlationId,
        });
      },
    });
  }
  const next: ActivationPinData =
    match.kind === 'match'
      ? {
          ...data,
          personId: match.personId,
          accountId: match.accountId,
          sendSms: match.sms,
          sendEmail: match.email,
          destinations: [...(match.sms ? [`sms:${maskPhone(match.sms)}`] : []), ...(match.email ? [`email:${maskEmail(match.email)}`] : [])],
          contact,
          needsNationalId: match.needsNationalId,
          username: match.username,
        }
      : {
          // Enumeration-safe: the same answer as a match, showing what was typed, and nothing sent.
          ...data,
          contact,
          destinations: [...(e164 ? [`sms:${maskPhone(e164)}`] : []), ...(lower ? [`email:${maskEmail(lower)}`] : [])],
        };
  const limited = await pinLimit(ctx, flowId, next.personId, { resend: false });
  if (limited) return fail(limited.code, { params: { seconds: limited.seconds } });
  return { ok: true, state: 'awaiting_pin', data: next, commit: (tx) => issueAndSendPin(ctx, tx, flowId, next, req.locale, req.meta) };
}

async function stepPin(ctx: AppContext, flowId: string, data: ActivationPinData, action: string, input: Record<string, unknown>, req: Parameters<FlowDefinition['step']>[4]): Promise<Outcome> {
  if (action === 'resend') {
    const limited = await pinLimit(ctx, flowId, data.personId, { resend: true });
    if (limited) return fail(limited.code, { params: { seconds: limited.seconds } });
    const next = { ...data, resent: true };
    return { ok: true, state: 'awaiting_pin', data: next, commit: (tx) => issueAndSendPin(ctx, tx, flowId, next, req.locale, req.meta) };
  }
  const parsed = parseInput(pinInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  const pin = cleanPin(parsed.value.pin);
  // Something that cannot be a PIN costs no attempt: it cannot be a guess.
  if (!pin) return fail('activation.pin_invalid', { fields: { pin: 'activation.pin_invalid' } });
  const result = await verifyCode(ctx, ctx.db.kysely, PIN_PURPOSE, flowId, pin);
  if (result === 'ok' && data.personId) {
    const now = ctx.clock.now();
    return {
      ok: true,
      state: data.needsNationalId ? 'awaiting_national_id' : 'awaiting_consent',
      data: { ...data, resent: false },
      async commit(tx) {
        await audit(tx, now, { actor: 'anonymous', action: 'activation.pin_verified', accountId: data.accountId, personId: data.personId, ip: req.meta.ip, correlationId: req.meta.correlationId });
      },
    };
  }
  if (result === 'locked') return fail('activation.pin_locked');
  if (result === 'expired') return fail('activation.pin_expired', { fields: { pin: 'activation.pin_expired' } });
  if (result === 'none') {
    // The latest PIN was used: a concurrent submission of the same PIN already moved the flow on.
    const latest = await ctx.db.kysely
      .selectFrom('one_time_codes')
      .select('used_at')
      .where('purpose', '=', PIN_PURPOSE)
      .where('subject', '=', flowId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (latest?.used_at) return fail('flow.wrong_state');
    return fail('activation.pin_expired', { fields: { pin: 'activation.pin_expired' } });
  }
  return fail('activation.pin_invalid', { fields: { pin: 'activation.pin_invalid' } });
}

function stepNationalId(ctx: AppContext, data: ActivationPinData, action: string, input: Record<string, unknown>, req: Parameters<FlowDefinition['step']>[4]): Outcome {
  if (action === 'use_insurance' || action === 'use_amka') {
    return { ok: true, state: 'awaiting_national_id', data: { ...data, idMode: action === 'use_amka' ? 'amka' : 'insurance' } };
  }
  const parsed = parseInput(nationalIdInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  const v = parsed.value;
  const now = ctx.clock.now();
  let update: { amka: string } | { insurance_country: string; insurance_number: string };
  let kind: string;
  if (v.amka) {
    if (!isValidAmka(v.amka)) return fail('national_id.invalid', { fields: { amka: 'amka.invalid' } });
    update = { amka: normalizeAmka(v.amka) };
    kind = 'amka';
  } else if (v.insuranceCountry || v.insuranceNumber) {
    const fields: Record<string, string> = {};
    if (!v.insuranceCountry) fields.insuranceCountry = 'field.required';
    if (!v.insuranceNumber) fields.insuranceNumber = 'field.required';
    if (Object.keys(fields).length > 0) return fail('validation.failed', { fields });
    const checked = checkInsuranceNumber(v.insuranceCountry!, v.insuranceNumber!);
    if (!checked.ok) return fail('national_id.invalid', { fields: { [checked.field]: checked.code } });
    update = { insurance_country: v.insuranceCountry!.toUpperCase(), insurance_number: checked.number };
    kind = checked.kind;
  } else {
    return fail('validation.failed', { fields: data.idMode === 'amka' ? { amka: 'field.required' } : { insuranceCountry: 'field.required', insuranceNumber: 'field.required' } });
  }
  return {
    ok: true,
    state: 'awaiting_consent',
    data,
    async commit(tx) {
      // Only fills a gap: a national id the registrar already holds is never overwritten here.
      await tx
        .updateTable('persons')
        .set({ ...update, updated_at: now.toISOString() })
        .where('id', '=', data.personId!)
        .where('amka', 'is', null)
        .where('insurance_number', 'is', null)
        .execute();
      await audit(tx, now, { actor: 'anonymous', action: 'person.national_id_added', accountId: data.accountId, personId: data.personId, ip: req.meta.ip, correlationId: req.meta.correlationId, details: { kind } });
    },
  };
}

function stepConsent(ctx: AppContext, data: ActivationPinData, input: Record<string, unknown>, req: Parameters<FlowDefinition['step']>[4]): Outcome {
  const parsed = parseInput(consentInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  const consents = consentsOf(ctx, req.locale);
  const choices = readConsents(input, consents.map((c) => c.id));
  const fields: Record<string, string> = {};
  for (const c of consents) if (c.required && !choices[c.id]) fields[consentField(c.id)] = 'field.required';
  if (!parsed.value.dataAccurate) fields.dataAccurate = 'field.required';
  if (Object.keys(fields).length > 0) return fail('validation.failed', { fields });
  const now = ctx.clock.now();
  return {
    ok: true,
    state: 'awaiting_password',
    data: { ...data, suggestions: suggestPasswords(ctx, 3, data.username ?? undefined) },
    async commit(tx) {
      for (const c of consents) {
        await tx
          .insertInto('consent_records')
          .values({ id: randomId(), person_id: data.personId!, account_id: data.accountId, consent_id: c.id, version: c.version, granted: choices[c.id] ? 1 : 0, locale: req.locale, at: now.toISOString() })
          .execute();
      }
      await audit(tx, now, {
        actor: 'anonymous',
        action: 'activation.data_confirmed',
        accountId: data.accountId,
        personId: data.personId,
        ip: req.meta.ip,
        correlationId: req.meta.correlationId,
        details: { consents: Object.fromEntries(consents.map((c) => [c.id, { version: c.version, granted: choices[c.id] }])) },
      });
    },
  };
}

async function stepPassword(ctx: AppContext, data: ActivationPinData, input: Record<string, unknown>, req: Parameters<FlowDefinition['step']>[4]): Promise<Outcome> {
  const parsed = parseInput(passwordInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  let { password, passwordConfirm } = parsed.value;
  const suggestion = parsed.value.suggestion;
  if (!password && suggestion) {
    // A picked suggestion counts only if it is one of those offered.
    if (!data.suggestions.includes(suggestion)) return fail('validation.failed', { fields: { suggestion: 'field.invalid' } });
    password = suggestion;
    passwordConfirm = suggestion;
  }
  if (!password) return fail('validation.failed', { fields: { password: 'field.required' } });
  const weak = checkNewPassword(ctx, password, passwordConfirm ?? '', { username: data.username ?? undefined, field: 'password', confirmField: 'passwordConfirm' });
  if (weak) return weak;
  const account = await findAccountById(ctx.db.kysely, data.accountId!);
  const person = await findPerson(ctx.db.kysely, data.personId!);
  if (!account || !person) return fail('activation.no_match');
  if (account.status === 'active') return fail('activation.already_active');
  if (account.status !== 'pending_activation') return fail('activation.no_match');
  const hash = await hashPassword(password);
  const now = ctx.clock.now();
  const result = { username: account.username, email: null as string | null, status: 'active' };
  return {
    ok: true,
    state: 'completed',
    // The suggestions are dropped: a completed flow keeps no password, offered or chosen.
    data: { ...data, suggestions: [] },
    result,
    async commit(tx) {
      const email = account.email ?? (await assignAddress(ctx, tx, person));
      result.email = email;
      await tx
        .updateTable('accounts')
        .set({ password_hash: hash, password_changed_at: now.toISOString(), email, email_lower: email?.toLowerCase() ?? null })
        .where('id', '=', account.id)
        .execute();
      await transitionAccount(tx, account, 'active', { actor: `account:${account.id}`, reason: 'activation.pin', at: now, meta: req.meta });
      await audit(tx, now, {
        actor: `account:${account.id}`,
        action: 'account.activated',
        accountId: account.id,
        personId: person.id,
        ip: req.meta.ip,
        correlationId: req.meta.correlationId,
        details: { method: 'pin', email, suggested: parsed.value.suggestion !== undefined && password === parsed.value.suggestion },
      });
    },
  };
}

/**
 * Activation by matching the registrar's record and a PIN (`uop`). Produces
 * `activation.no_match`, `activation.already_active`, `activation.pin_invalid`,
 * `activation.pin_expired`, `activation.pin_locked`, `activation.resend_too_soon`,
 * `activation.too_many_pins`, `national_id.invalid`, `password.policy`, `password.mismatch`,
 * `validation.failed`, `flow.wrong_state`.
 */
export const activationPinFlow: FlowDefinition<ActivationPinData> = {
  kind: 'activation-pin',
  states,
  secretFields: ['pin', 'password', 'passwordConfirm', 'suggestion'],
  async start() {
    return { state: 'awaiting_contact', data: emptyData() };
  },
  describe(state, data, ctx, locale) {
    const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
    switch (state) {
      case 'awaiting_contact':
        return { fields: contactFields(), actions: ['submit'], data: data.contact ? { contact: data.contact } : {} };
      case 'awaiting_pin':
        return { fields: pinFields(), actions: ['submit', 'resend'], data: { destinations: data.destinations, contact: data.contact, resent: data.resent } };
      case 'awaiting_national_id':
        return {
          fields: nationalIdFields(data.idMode, countryOptions(locale)),
          actions: ['submit', data.idMode === 'amka' ? 'use_insurance' : 'use_amka'],
          data: { mode: data.idMode, contact: data.contact },
        };
      case 'awaiting_consent': {
        const consents = consentsOf(ctx, locale);
        const instructions = ctx.config.activation.instructions;
        return {
          fields: consentFields(consents),
          actions: ['submit'],
          data: { username: data.username, contact: data.contact, consents, ...(instructions ? { instructions: localized(instructions, locale) } : {}) },
        };
      }
      case 'awaiting_password':
        return {
          fields: passwordFields(policyHint(ctx, t), data.suggestions),
          actions: ['submit'],
          data: { username: data.username, suggestions: data.suggestions, contact: data.contact },
        };
      default:
        return { fields: [], actions: [], data: {} };
    }
  },
  async step(ctx, flow, action, input, req) {
    switch (flow.state) {
      case 'awaiting_contact':
        return stepContact(ctx, flow.id, flow.data, input, req);
      case 'awaiting_pin':
        return stepPin(ctx, flow.id, flow.data, action, input, req);
      case 'awaiting_national_id':
        return stepNationalId(ctx, flow.data, action, input, req);
      case 'awaiting_consent':
        return stepConsent(ctx, flow.data, input, req);
      case 'awaiting_password':
        return stepPassword(ctx, flow.data, input, req);
      default:
        return fail('flow.wrong_state');
    }
  },
};
