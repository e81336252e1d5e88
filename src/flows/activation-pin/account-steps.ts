import { activateAccount } from '../../accounts/activate.js';
import { recordConsents } from '../../accounts/consent-records.js';
import { findAccountById, findPerson } from '../../accounts/repository.js';
import type { AppContext } from '../../app/context.js';
import { audit } from '../../audit/audit.js';
import { checkNewPassword } from '../../auth/new-password.js';
import { hashPassword } from '../../auth/passwords.js';
import { suggestPasswords } from '../../auth/suggest-passwords.js';
import { amkaMatchesBirthDate, isValidAmka, normalizeAmka } from '../../domain/amka.js';
import { checkInsuranceNumber } from '../../domain/insurance-number.js';
import type { Locale } from '../../i18n/index.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { parseInput } from '../kernel/input.js';
import { summarizeRecord } from './record-summary.js';
import { consentProblems, consentsAsShown, dropShownVersions, readConsents, shownConsents } from '../kernel/consents.js';
import { consentInput, nationalIdInput, passwordInput, type ActivationPinData } from './machine.js';
import { fail, type Outcome, type Req } from './outcome.js';

/** The institution's consents in `locale`, with their versions. */
export const consentsOf = (ctx: AppContext, locale: Locale) => shownConsents(ctx.config.activation.consents, locale);

/**
 * AMKA, or country + insurance / EHIC number. An AMKA must carry the record's birth date
 * (`amka.birth_date_mismatch`) and belong to no other person (`amka.in_use`). Produces
 * `national_id.invalid`, `validation.failed`.
 */
export async function stepNationalId(ctx: AppContext, data: ActivationPinData, action: string, input: Record<string, unknown>, req: Req): Promise<Outcome> {
  if (action === 'use_insurance' || action === 'use_amka') {
    return { ok: true, state: 'awaiting_national_id', data: { ...data, idMode: action === 'use_amka' ? 'amka' : 'insurance' } };
  }
  const parsed = parseInput(nationalIdInput, input);
  if (!parsed.ok) return fail('validation.failed', { fields: parsed.fields });
  const v = parsed.value;
  const now = ctx.clock.now();
  let update: { amka: string } | { insurance_country: string; insurance_number: string };
  let kind: string;
  const person = await findPerson(ctx.db.kysely, data.personId!);
  if (!person) return fail('activation.no_match');
  if (v.amka) {
    if (!isValidAmka(v.amka)) return fail('national_id.invalid', { fields: { amka: 'amka.invalid' } });
    const amka = normalizeAmka(v.amka);
    if (person.birthDate && !amkaMatchesBirthDate(amka, person.birthDate)) {
      return fail('national_id.invalid', { fields: { amka: 'amka.birth_date_mismatch' } });
    }
    if (await amkaHeldByAnother(ctx.db.kysely, amka, person.id)) return fail('national_id.invalid', { fields: { amka: 'amka.in_use' } });
    update = { amka };
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
  const record = await summarizeRecord(ctx.db.kysely, {
    ...person,
    ...('amka' in update ? { amka: update.amka } : { insuranceCountry: update.insurance_country, insuranceNumber: update.insurance_number }),
  });
  return {
    ok: true,
    state: 'awaiting_consent',
    data: { ...data, record },
    async commit(tx) {
      // Only fills a gap: a national id the registrar already holds is never overwritten here,
      // and an AMKA another person took meanwhile is not written twice.
      let write = tx
        .updateTable('persons')
        .set({ ...update, updated_at: now.toISOString() })
        .where('id', '=', data.personId!)
        .where('amka', 'is', null)
        .where('insurance_number', 'is', null);
      if ('amka' in update) {
        const amka = update.amka;
        write = write.where((eb) => eb.not(eb.exists(eb.selectFrom('persons as other').select('other.id').where('other.amka', '=', amka).where('other.id', '<>', data.personId!))));
      }
      await write.execute();
      await audit(tx, now, { actor: 'anonymous', action: 'person.national_id_added', accountId: data.accountId, personId: data.personId, ip: req.meta.ip, correlationId: req.meta.correlationId, details: { kind } });
    },
  };
}

/** True when a person other than `personId` holds `amka`. */
async function amkaHeldByAnother(db: Kysely<Database>, amka: string, personId: string): Promise<boolean> {
  const row = await db.selectFrom('persons').select('id').where('amka', '=', amka).where('id', '<>', personId).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Data confirmed and privacy choices recorded (with versions). Produces `validation.failed`. */
export function stepConsent(ctx: AppContext, data: ActivationPinData, input: Record<string, unknown>, req: Req): Outcome {
  // `dataAccurate` saying neither yes nor no (`5`, `"yes"`) is `field.invalid` (checkbox), as a
  // consent's value is; left out or false, it is required. Every problem is answered at once.
  const parsed = parseInput(consentInput, input);
  // As the step showed them: a version changed since refuses the step, shown again with the new one.
  const { consents, changed } = consentsAsShown(data, consentsOf(ctx, req.locale));
  const choices = readConsents(input, consents.map((c) => c.id));
  const fields = { ...consentProblems(input, consents, choices, () => 'field.required'), ...(parsed.ok ? {} : parsed.fields), ...changed };
  if (parsed.ok && !parsed.value.dataAccurate) fields.dataAccurate = 'field.required';
  if (Object.keys(fields).length > 0) return fail('validation.failed', { fields });
  const now = ctx.clock.now();
  return {
    ok: true,
    state: 'awaiting_password',
    data: { ...dropShownVersions(data), suggestions: suggestPasswords(ctx, 3, data.username ?? undefined) },
    async commit(tx) {
      const recorded = await recordConsents(tx, { personId: data.personId!, accountId: data.accountId }, consents, choices, now, req.locale);
      await audit(tx, now, {
        actor: 'anonymous',
        action: 'activation.data_confirmed',
        accountId: data.accountId,
        personId: data.personId,
        ip: req.meta.ip,
        correlationId: req.meta.correlationId,
        details: { consents: recorded },
      });
    },
  };
}

/**
 * The password (or a picked suggestion) → account active, address assigned. Produces
 * `password.policy`, `password.mismatch`, `validation.failed`, `activation.already_active`, `activation.no_match`.
 */
export async function stepPassword(ctx: AppContext, data: ActivationPinData, input: Record<string, unknown>, req: Req): Promise<Outcome> {
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
  const hash = await hashPassword(password, req.meta.ip);
  const now = ctx.clock.now();
  const result = { username: account.username, email: null as string | null, status: 'active' };
  return {
    ok: true,
    state: 'completed',
    // The suggestions are dropped: a completed flow keeps no password, offered or chosen; nor
    // the data shown for checking.
    data: { ...data, suggestions: [], record: null },
    result,
    async commit(tx) {
      result.email = await activateAccount(ctx, tx, {
        account,
        person,
        passwordHash: hash,
        method: 'pin',
        at: now,
        meta: req.meta,
        language: req.language,
        details: { suggested: parsed.value.suggestion !== undefined && password === parsed.value.suggestion },
      });
    },
  };
}

