import type { AppContext } from '../../app/context.js';
import { audit } from '../../audit/audit.js';
import { verifyCode } from '../../codes/one-time-codes.js';
import { maskEmail, normalizeEmail } from '../../domain/email-mask.js';
import { canTakeSms, maskPhone, toE164 } from '../../domain/phone.js';
import { parseInput } from '../kernel/input.js';
import { PIN_PURPOSE, cleanPin, contactInput, pinInput, type ActivationPinData } from './machine.js';
import { matchRecord } from './matching.js';
import { fail, type Outcome, type Req } from './outcome.js';
import { contactCapKeys, issueAndSendPin, pinLimit } from './pin-delivery.js';
import { summarizeRecord } from './record-summary.js';
import { findPerson } from '../../accounts/repository.js';

/**
 * Matches the record and sends a PIN. Produces `validation.failed`, `activation.no_match`,
 * `activation.already_active`, `activation.too_many_pins`.
 */
export async function stepContact(ctx: AppContext, flowId: string, data: ActivationPinData, input: Record<string, unknown>, req: Req): Promise<Outcome> {
  const parsed = parseInput(contactInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  const { mobile, email } = parsed.value;
  if (!mobile && !email) {
    // Both fields are optional; one of them is needed: one sentence says so on both, never "required".
    return fail('validation.failed', { fields: { mobile: 'activation.contact_required', email: 'activation.contact_required' } });
  }
  const fields: Record<string, string> = {};
  const e164 = mobile ? toE164(mobile, ctx.config.institution.defaultCountry) : null;
  if (mobile && !e164) fields.mobile = 'phone.invalid';
  else if (e164 && !canTakeSms(e164)) fields.mobile = 'phone.not_mobile';
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
  if (safe) {
    // Enumeration-safe: what the person sees depends only on what was typed (each contact typed,
    // masked as typed; the hourly cap counted on the typed contacts, on file or not); the PIN
    // goes only to the contacts on file.
    const destinations = [...(e164 ? [`sms:${maskPhone(e164)}`] : []), ...(email ? [`email:${maskEmail(email)}`] : [])];
    const capKeys = contactCapKeys(ctx, e164, lower);
    const matched = match.kind === 'match' ? match : null;
    const next: ActivationPinData = {
      ...data,
      personId: matched?.personId ?? null,
      accountId: matched?.accountId ?? null,
      sendSms: matched?.sms ?? null,
      sendEmail: matched?.email ?? null,
      destinations,
      contact,
      needsNationalId: matched?.needsNationalId ?? false,
      username: matched?.username ?? null,
      capKeys,
    };
    const limited = await pinLimit(ctx, flowId, null, { resend: false, capKeys });
    if (limited) return fail(limited.code, { params: { seconds: limited.seconds } });
    return { ok: true, state: 'awaiting_pin', data: next, commit: (tx) => issueAndSendPin(ctx, tx, flowId, next, req.locale, req.meta) };
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
      : { ...data, contact };
  const limited = await pinLimit(ctx, flowId, next.personId, { resend: false });
  if (limited) return fail(limited.code, { params: { seconds: limited.seconds } });
  return { ok: true, state: 'awaiting_pin', data: next, commit: (tx) => issueAndSendPin(ctx, tx, flowId, next, req.locale, req.meta) };
}

/**
 * Checks the PIN, or sends a new one (`resend`). Produces `activation.pin_invalid`,
 * `activation.pin_expired`, `activation.pin_locked`, `activation.resend_too_soon`,
 * `activation.too_many_pins`, `flow.wrong_state` (a concurrent submission won).
 */
export async function stepPin(ctx: AppContext, flowId: string, data: ActivationPinData, action: string, input: Record<string, unknown>, req: Req): Promise<Outcome> {
  if (action === 'resend') {
    const limited = await pinLimit(ctx, flowId, data.personId, { resend: true, capKeys: data.capKeys });
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
    const person = await findPerson(ctx.db.kysely, data.personId);
    const record = person ? await summarizeRecord(ctx.db.kysely, person) : null;
    return {
      ok: true,
      state: data.needsNationalId ? 'awaiting_national_id' : 'awaiting_consent',
      data: { ...data, resent: false, record },
      async commit(tx) {
        await audit(tx, now, { actor: 'anonymous', action: 'activation.pin_verified', accountId: data.accountId, personId: data.personId, ip: req.meta.ip, correlationId: req.meta.correlationId });
      },
    };
  }
  // The latest PIN was used: a concurrent submission of the same PIN moved the flow on, whether
  // it was used before this one read it ('none') or between the read and the consuming write
  // (then this one looks like a wrong PIN).
  const latest = await ctx.db.kysely
    .selectFrom('one_time_codes')
    .select('used_at')
    .where('purpose', '=', PIN_PURPOSE)
    .where('subject', '=', flowId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (latest?.used_at) return fail('flow.wrong_state');
  if (result === 'locked') return fail('activation.pin_locked');
  if (result === 'expired' || result === 'none') return fail('activation.pin_expired', { fields: { pin: 'activation.pin_expired' } });
  return fail('activation.pin_invalid', { fields: { pin: 'activation.pin_invalid' } });
}

