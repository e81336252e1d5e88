import { AppError } from '../../errors/app-error.js';
import { reserveAttempt } from '../../auth/throttle.js';
import type { AppContext } from '../../app/context.js';
import type { RequestMeta } from '../../audit/audit.js';
import { audit } from '../../audit/audit.js';
import { randomId } from '../../app/secret.js';
import { countIssued, issueCode } from '../../codes/one-time-codes.js';
import type { Locale } from '../../i18n/index.js';
import { ACTIVATION_PIN_TEMPLATE } from '../../messages/activation-pin-templates.js';
import { renderMessage } from '../../messages/templates.js';
import { enqueueMessage } from '../../outbox/enqueue.js';
import { preparedQuery } from '../../db/prepared.js';
import { localized } from '../../views/localized.js';
import type { Tx } from '../kernel/types.js';
import { PIN_PURPOSE, type ActivationPinData } from './machine.js';

const HOUR = 3600_000;

const pinsSentSince = preparedQuery((db, personId: string, since: string) =>
  db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('person_id', '=', personId)
    .where('action', '=', 'activation.pin_sent')
    .where('at', '>=', since),
);

/**
 * Enumeration-safe mode counts the hourly cap per contact typed, known or not: one row per PIN
 * and typed contact under this purpose, with a keyed hash of the contact as subject. The rows
 * are counters, never codes: no code hash, no attempt, revoked from the start.
 */
const CAP_PURPOSE = 'activation_pin_cap';

/** The cap keys of the contacts typed (normalised: E.164, lowercased email). */
export function contactCapKeys(ctx: AppContext, e164: string | null, emailLower: string | null): string[] {
  return [...(e164 ? [`sms:${e164}`] : []), ...(emailLower ? [`email:${emailLower}`] : [])].map((c) => ctx.secrets.hmac(CAP_PURPOSE, c));
}

const capCount = preparedQuery((db, subject: string, since: string) =>
  db
    .selectFrom('one_time_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('purpose', '=', CAP_PURPOSE)
    .where('subject', '=', subject)
    .where('created_at', '>=', since),
);

/**
 * Whether another PIN may be sent now: not within the cool-down of the last one for this flow,
 * and not more than `maxPerHour` for the record — or, in enumeration-safe mode (`capKeys`), for
 * any contact typed, whether or not it is on file (`personId` is then not used).
 * Returns the error code to answer, or null.
 */
export async function pinLimit(
  ctx: AppContext,
  flowId: string,
  personId: string | null,
  opts: { resend: boolean; capKeys?: string[] | undefined },
): Promise<{ code: 'activation.resend_too_soon' | 'activation.too_many_pins'; seconds: number } | null> {
  const cfg = ctx.config.activation.pin;
  const now = ctx.clock.now();
  if (opts.resend) {
    const recent = await countIssued(ctx, PIN_PURPOSE, flowId, new Date(now.getTime() - cfg.resendCooldownSeconds * 1000));
    if (recent.count > 0 && recent.last) {
      const wait = Math.ceil((recent.last.getTime() + cfg.resendCooldownSeconds * 1000 - now.getTime()) / 1000);
      return { code: 'activation.resend_too_soon', seconds: Math.max(1, wait) };
    }
  }
  const since = new Date(now.getTime() - HOUR);
  let count: number;
  if (opts.capKeys && opts.capKeys.length > 0) {
    count = 0;
    for (const key of opts.capKeys) count = Math.max(count, Number((await capCount.first(ctx.db.kysely, key, since.toISOString()))?.n ?? 0));
  } else if (personId) {
    // Per record, across flows: starting a new flow does not reset the hourly allowance.
    const row = await pinsSentSince.first(ctx.db.kysely, personId, since.toISOString());
    count = Number(row?.n ?? 0);
  } else {
    count = (await countIssued(ctx, PIN_PURPOSE, flowId, since)).count;
  }
  return count >= cfg.maxPerHour ? { code: 'activation.too_many_pins', seconds: 3600 } : null;
}

/**
 * Issues a new PIN for the flow (revoking the previous one) and queues it to the matched
 * contacts, inside the transaction that moves the flow. With no matched record (enumeration-safe
 * mode) the PIN is issued the same way but sent nowhere, so timing and limits look the same.
 */
export async function issueAndSendPin(ctx: AppContext, tx: Tx, flowId: string, data: ActivationPinData, locale: Locale, meta: RequestMeta): Promise<void> {
  const cfg = ctx.config.activation.pin;
  const now = ctx.clock.now();
  const { code } = await issueCode(ctx, tx, {
    purpose: PIN_PURPOSE,
    subject: flowId,
    ttlMs: cfg.ttlMinutes * 60_000,
    maxAttempts: cfg.maxAttempts,
    format: { digits: 6 },
    destination: data.destinations.join(', ') || null,
  });
  for (const key of data.capKeys ?? []) {
    const at = now.toISOString();
    await tx
      .insertInto('one_time_codes')
      .values({ id: randomId(), purpose: CAP_PURPOSE, subject: key, code_hash: '', destination: null, attempts: 0, max_attempts: 0, created_at: at, expires_at: new Date(now.getTime() + HOUR).toISOString(), used_at: null, revoked_at: at })
      .execute();
  }
  // The check before the step ran outside this transaction: flows typing the same contact (or
  // matching the same record) at once could all pass it. One atomic counter per contact typed in
  // enumeration-safe mode, per record otherwise, taken here, lets no more than the cap through
  // (the refusal rolls the whole step back: no PIN, no message). Enumeration-safe mode never
  // counts per record: a refusal only for records on file would tell that they are.
  const counters = data.capKeys?.length ? data.capKeys.map((k) => `pin-cap:${k}`) : data.personId ? [`pin-record:${data.personId}`] : [];
  if (counters.length) {
    const rule = { maxFailures: cfg.maxPerHour, windowMs: HOUR, lockMs: HOUR };
    if (await reserveAttempt(tx, counters.map((k) => [k, rule] as [string, typeof rule]), now)) throw new AppError('activation.too_many_pins');
  }
  if (!data.personId) {
    await audit(tx, now, { actor: 'anonymous', action: 'activation.pin_not_sent', ip: meta.ip, correlationId: meta.correlationId, details: { reason: 'no_match' } });
    return;
  }
  const inst = ctx.config.institution;
  const params = { pin: code, minutes: cfg.ttlMinutes, institution: inst.shortName ?? localized(inst.name, locale), helpdesk: inst.helpdeskEmail ?? '' };
  const channels: string[] = [];
  if (data.sendSms) {
    await enqueueMessage(tx, now, renderMessage(ACTIVATION_PIN_TEMPLATE, 'sms', locale, data.sendSms, PIN_PURPOSE, params));
    channels.push('sms');
  }
  if (data.sendEmail) {
    await enqueueMessage(tx, now, renderMessage(ACTIVATION_PIN_TEMPLATE, 'email', locale, data.sendEmail, PIN_PURPOSE, params));
    channels.push('email');
  }
  await audit(tx, now, {
    actor: 'anonymous',
    action: 'activation.pin_sent',
    accountId: data.accountId,
    personId: data.personId,
    ip: meta.ip,
    correlationId: meta.correlationId,
    details: { channels, destinations: data.destinations },
  });
}
