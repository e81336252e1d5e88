import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { z } from 'zod';
import { nameKeyColumns } from '../../domain/name-key.js';
import { canTakeSms, toE164 } from '../../domain/phone.js';
import type { AppContext } from '../../app/context.js';
import { formatTime } from '../../auth/credentials.js';
import { randomId } from '../../app/secret.js';
import { recordConsents } from '../../accounts/consent-records.js';
import { accountLocale } from '../../accounts/locale.js';
import { checkNewPassword, policyHint } from '../../auth/new-password.js';
import { hashPassword } from '../../auth/passwords.js';
import { AppError } from '../../errors/app-error.js';
import { translate, type Locale } from '../../i18n/index.js';
import { timeZoneLabel } from '../../i18n/dates.js';
import { localized } from '../../views/localized.js';
import { parseInput } from '../kernel/input.js';
import type { FlowDefinition, StepOutcome, StepRequest, Tx } from '../kernel/types.js';
import { consentFieldSpecs, consentProblems, consentsAsShown, keepShownVersions, noticeIn, PRIVACY_CONSENT, readConsents, shownConsents, type ShownConsent } from '../kernel/consents.js';
import { changeEmailInput, consentInputName, detailsFields, detailsInput, registrantTypes, tokenInput, verificationFields, type RegistrationData, states } from './machine.js';
import { auditRegistration, findRegistration, holdersOf, lifetimeMs, sendVerificationLink, voidRegistrations } from './records.js';
import { activateByToken } from './verify.js';
import { addressWait, emailWait, holdEmailPlace, takeAddressPlace, tooManyRegistrations } from './limits.js';

type Failure = Extract<StepOutcome<RegistrationData>, { ok: false }>;

/**
 * Names that would pass for the institution or its mail roles (RFC 2142) in an address, a
 * sender's name or a service's `preferred_username`: never given to a registration, which is told
 * they are taken.
 */
export const reservedUsernames = new Set([
  'abuse', 'admin', 'administrator', 'daemon', 'dpo', 'help', 'helpdesk', 'hostmaster', 'info', 'mailer-daemon', 'noc', 'no-reply', 'noreply', 'postmaster',
  'privacy', 'root', 'security', 'segreteria', 'support', 'system', 'tessera', 'webmaster', 'www',
]);

/**
 * Whether a username would pass for the institution itself: its id, its short name or a name of
 * its domain (`uniupo` of uniupo.it), which the list above cannot know.
 */
export function namesInstitution(ctx: AppContext, username: string): boolean {
  const { id, shortName, domain } = ctx.config.institution;
  return [id, shortName ?? '', ...domain.split('.').slice(0, -1)].some((name) => name.toLowerCase() === username);
}

/**
 * The answer to a registration that lost a race for its username or email (the check before the
 * insert saw them free): the same code and field as when the check sees them taken. The index
 * that refused the row says which: SQLite names the column, PostgreSQL the constraint after it.
 */
function takenAnswer(e: unknown): AppError {
  const taken = /email_lower/.test(String((e as Error)?.message ?? e)) ? 'email' : 'username';
  const code = taken === 'email' ? 'registration.email_registered' : 'registration.username_taken';
  return new AppError(code, { fields: { [taken]: code } });
}

/** The mobile in E.164, read like every phone number in Tessera (domain/phone.ts), or null. */
export const normaliseMobile = (ctx: AppContext, v: string): string | null => toE164(v, ctx.config.institution.defaultCountry);

/** registration.closed for an institution, school or company, from the configured date on. */
function closedFor(ctx: AppContext, type: string, locale: Locale): Failure | null {
  const r = ctx.config.registration;
  if (type === 'person' || !(r.closedCategories as string[]).includes(type) || !r.organisationsClosedSince) return null;
  if (ctx.clock.now().toISOString().slice(0, 10) < r.organisationsClosedSince) return null;
  // The institution's own message is shown as given (an unknown key translates to itself).
  return { ok: false, code: 'registration.closed', status: 403, fields: { registrantType: 'registration.closed' }, ...(r.closedMessage ? { details: [{ key: localized(r.closedMessage, locale) }] } : {}) };
}

/**
 * The consents of the details step in `locale`: the acceptance of the institution's privacy notice
 * (required, recorded as `privacy` with the notice's version; the version is empty for an
 * institution that configured no notice, which the start warns about: configWarnings), then
 * the institution's further consents, each referring to the notice.
 */
export function registrationConsents(ctx: AppContext, locale: Locale): ShownConsent[] {
  const { privacyNotice, consents } = ctx.config.registration;
  const privacy: ShownConsent = {
    id: PRIVACY_CONSENT,
    text: translate(locale, 'field.consents'),
    version: privacyNotice?.version ?? '',
    required: true,
    ...(privacyNotice ? { notice: noticeIn(privacyNotice, locale) } : {}),
  };
  return [privacy, ...shownConsents(consents, locale, privacyNotice)];
}

/** The consents' problems: the privacy notice not accepted (`consent.required`), a further required one not given (`consent.needed`), an unknown one. */
const consentsRefused = (input: Record<string, unknown>, consents: ShownConsent[], choices: Record<string, boolean>) =>
  consentProblems(input, consents, choices, (id) => (id === PRIVACY_CONSENT ? 'consent.required' : 'consent.needed'), consentInputName);

/** One input of the details step parsed on its own: its value, or undefined when it is not valid. */
function detailValue<K extends keyof typeof detailsInput.shape>(input: Record<string, unknown>, key: K): z.infer<typeof detailsInput>[K] | undefined {
  const schema: z.ZodType = detailsInput.shape[key];
  const r = parseInput(z.object({ value: schema }), { value: input[key] });
  return r.ok ? (r.value.value as z.infer<typeof detailsInput>[K]) : undefined;
}

/**
 * Every field check of the details step at once (shape, mobile, birth date, password policy and
 * confirmation), so that one submission reports every invalid field. The answer is
 * `password.policy` or `password.mismatch` when only the password fields fail, else
 * `validation.failed` with all the fields (and the broken password rules as details).
 */
function detailsProblems(ctx: AppContext, input: Record<string, unknown>, shape: Record<string, string>): Failure | null {
  const fields: Record<string, string> = { ...shape };
  const mobile = detailValue(input, 'mobile');
  if (mobile !== undefined) {
    const e164 = normaliseMobile(ctx, mobile);
    if (!e164) fields.mobile = 'phone.invalid';
    else if (!canTakeSms(e164)) fields.mobile = 'phone.not_mobile';
  }
  const birthDate = detailValue(input, 'birthDate');
  if (birthDate !== undefined && (birthDate >= ctx.clock.now().toISOString().slice(0, 10) || birthDate < '1900-01-01')) fields.birthDate = 'date.invalid';
  const password = detailValue(input, 'password');
  const confirm = detailValue(input, 'passwordConfirm');
  const rawUsername = typeof input.username === 'string' && input.username.trim() ? input.username.trim().toLowerCase() : undefined;
  const username = detailValue(input, 'username') ?? rawUsername;
  let policy: Failure | null = null;
  if (password !== undefined) {
    // The policy alone (the confirmation is compared below, even when the policy fails).
    policy = checkNewPassword(ctx, password, password, { username, field: 'password', confirmField: 'passwordConfirm' });
    if (policy) fields.password = 'password.policy';
    if (confirm !== undefined && confirm !== password) fields.passwordConfirm = 'password.mismatch';
  }
  const names = Object.keys(fields);
  if (names.length === 0) return null;
  const onlyPasswords = names.every((n) => fields[n] === 'password.policy' || fields[n] === 'password.mismatch');
  if (onlyPasswords) {
    if (policy) return { ...policy, fields };
    return { ok: false, code: 'password.mismatch', fields };
  }
  return { ok: false, code: 'validation.failed', fields, ...(policy?.details ? { details: policy.details } : {}) };
}

async function details(ctx: AppContext, flow: { id: string; data: RegistrationData }, input: Record<string, unknown>, req: StepRequest): Promise<StepOutcome<RegistrationData>> {
  // The consents as the page showed them: the versions recorded with the choices are the ones
  // shown; one changed since (the institution published a new notice) refuses the step, which is
  // shown again with the new one.
  const { consents, changed } = consentsAsShown(flow.data, registrationConsents(ctx, req.locale), consentInputName);
  const choices = readConsents(input, consents.map((c) => c.id), PRIVACY_CONSENT);
  const refused = { ...consentsRefused(input, consents, choices), ...changed };
  const parsed = parseInput(detailsInput, input);
  if (!parsed.ok) return detailsProblems(ctx, input, { ...parsed.fields, ...refused })!;
  const v = parsed.value;
  const closed = closedFor(ctx, v.registrantType, req.locale);
  if (closed) return closed;
  const problems = detailsProblems(ctx, input, refused);
  if (problems) return problems;
  const mobile = normaliseMobile(ctx, v.mobile)!;
  const now = ctx.clock.now();
  // Before the password is hashed: a client that used up its registrations of the hour costs a read.
  const wait = await addressWait(ctx, req.meta.ip);
  if (wait !== null) return { ok: false, ...tooManyRegistrations(wait, req.locale) };
  const emailLower = v.email.toLowerCase();
  const held = await holdersOf(ctx, ctx.db.kysely, { usernameLower: v.username, emailLower });
  if (held.emailTaken) return { ok: false, code: 'registration.email_registered', status: 422, fields: { email: 'registration.email_registered' } };
  if (held.usernameTaken || reservedUsernames.has(v.username) || namesInstitution(ctx, v.username)) return { ok: false, code: 'registration.username_taken', status: 422, fields: { username: 'registration.username_taken' } };

  const hash = await hashPassword(v.password, req.meta.ip);
  const accountId = randomUUID();
  const personId = randomUUID();
  const expiresAt = new Date(now.getTime() + lifetimeMs(ctx));
  // Chosen or asked for, else the institution's default: not the English of an API answer.
  const locale = accountLocale(ctx, req.language);
  return {
    ok: true,
    state: 'awaiting_verification',
    data: { accountId, username: v.username, email: v.email, givenName: v.givenName, linkExpiresAt: expiresAt.toISOString() },
    async commit(tx) {
      await takeAddressPlace(ctx, tx, req.meta.ip, req.locale);
      if (held.stale.length) await voidRegistrations(ctx, tx, held.stale);
      const at = now.toISOString();
      await tx
        .insertInto('persons')
        .values({
          id: personId,
          population: 'external',
          // Externals have no registrar record: their external id is generated here.
          external_id: `ext-${randomId(9)}`,
          given_name: v.givenName,
          family_name: v.familyName,
          ...nameKeyColumns(v.givenName, v.familyName),
          birth_date: v.birthDate,
          tax_code: null,
          amka: null,
          insurance_country: null,
          insurance_number: null,
          mobile,
          personal_email: v.email,
          personal_email_lower: emailLower,
          registrar_status: 'active',
          org_unit: null,
          role: null,
          contract_type: null,
          entitlements: '[]',
          // The language the person registered in: later emails (lifecycle jobs) use it.
          // (The choices of consent are recorded below, as activation's are.)
          extra: JSON.stringify({ registrantType: v.registrantType, locale }),
          source_hash: 'registration',
          created_at: at,
          updated_at: at,
        })
        .execute();
      try {
        await tx
          .insertInto('accounts')
          .values({
            id: accountId,
            person_id: personId,
            username: v.username,
            username_lower: v.username,
            email: v.email,
            email_lower: emailLower,
            status: 'pending_verification',
            password_hash: hash,
            password_changed_at: at,
            federated_only: 0,
            roles: '[]',
            created_at: at,
            updated_at: at,
            version: 0,
            // The language the person registered in (accountLocale): its link and later notices go out in it.
            locale,
          })
          .execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw takenAnswer(e);
        throw e;
      }
      await tx.insertInto('registrations').values({ account_id: accountId, flow_id: flow.id, email_lower: emailLower, created_at: at, expires_at: expiresAt.toISOString(), verified_at: null }).execute();
      // Now, with the versions shown: a notice changed while the email waits to be confirmed does not change what was accepted.
      const recorded = await recordConsents(tx, { personId, accountId }, consents, choices, now, req.locale);
      await auditRegistration(tx, now, 'registration.created', accountId, personId, req.meta, { registrantType: v.registrantType, consents: recorded });
      await sendVerificationLink(ctx, tx, { accountId, to: v.email, name: v.givenName, username: v.username, expiresAt, locale });
    },
  };
}

/**
 * When the link stops working, as the email says it: the time with the institution's time zone
 * named, since the page is read wherever the person is (often abroad).
 */
const linkDeadline = (ctx: AppContext, at: Date, locale: Locale) => `${formatTime(at, locale, ctx.config.institution.timeZone)} (${timeZoneLabel(at, locale, ctx.config.institution.timeZone)})`;

/** The answer to anything sent about a void registration; the flow keeps only that it is void. */
const voidedFailure = (): Failure => ({ ok: false, code: 'registration.link_expired', status: 410, data: { voided: true } });

/** True when the flow's registration is void: its link lifetime passed (or it is gone already). */
function pastLifetime(ctx: AppContext, data: RegistrationData): boolean {
  return data.voided === true || (data.linkExpiresAt !== undefined && data.linkExpiresAt <= ctx.clock.now().toISOString());
}

/** The registration behind a flow, when still pending and within its lifetime; else the failure to answer. */
async function livePending(ctx: AppContext, data: RegistrationData): Promise<{ expiresAt: Date; personId: string | null; email: string | null; locale: string | null } | Failure> {
  const reg = data.accountId ? await findRegistration(ctx.db.kysely, data.accountId) : null;
  const voided = voidedFailure();
  if (!reg || reg.verified_at) return voided;
  if (reg.expires_at <= ctx.clock.now().toISOString()) {
    await ctx.db.kysely.transaction().execute((tx) => voidRegistrations(ctx, tx, [data.accountId!]));
    return voided;
  }
  const acc = await ctx.db.kysely.selectFrom('accounts').select(['person_id', 'email', 'locale']).where('id', '=', data.accountId!).executeTakeFirst();
  return { expiresAt: new Date(reg.expires_at), personId: acc?.person_id ?? null, email: acc?.email ?? null, locale: acc?.locale ?? null };
}

/**
 * Sends the activation link again for a pending registration, to its address or to a corrected
 * one (from the registration flow, or from a login refused because the address is not confirmed),
 * under the registration's email limits (limits.ts). Without a correction the link goes to the
 * address the account has now (it may have been corrected in another flow since this one read
 * it); `next` is the step's outcome given that address. Produces `registration.link_expired`,
 * `registration.resend_too_soon`, `registration.too_many_emails`.
 */
export async function resendOutcome<D>(
  ctx: AppContext,
  data: RegistrationData,
  req: StepRequest,
  next: (to: string) => { state: string; data: D },
  change?: { email: string },
): Promise<StepOutcome<D>> {
  const live = await livePending(ctx, data);
  if ('ok' in live) return live as unknown as StepOutcome<D>;
  const limited = await emailWait(ctx, data.accountId!);
  if (limited) return { ok: false, code: limited.code, status: 429, ...(limited.seconds ? { params: { seconds: limited.seconds } } : {}) };
  const to = change?.email ?? live.email ?? data.email!;
  const now = ctx.clock.now();
  return {
    ok: true,
    ...next(to),
    async commit(tx: Tx) {
      await holdEmailPlace(ctx, tx, data.accountId!);
      if (change) {
        const lower = change.email.toLowerCase();
        try {
          await tx.updateTable('accounts').set({ email: change.email, email_lower: lower, updated_at: now.toISOString() }).where('id', '=', data.accountId!).execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw new AppError('registration.email_registered', { fields: { email: 'registration.email_registered' } });
          throw e;
        }
        if (live.personId) await tx.updateTable('persons').set({ personal_email: change.email, personal_email_lower: lower, updated_at: now.toISOString() }).where('id', '=', live.personId).execute();
        await tx.updateTable('registrations').set({ email_lower: lower }).where('account_id', '=', data.accountId!).execute();
      }
      await auditRegistration(tx, now, change ? 'registration.email_changed' : 'registration.link_resent', data.accountId!, live.personId, req.meta);
      await sendVerificationLink(ctx, tx, { accountId: data.accountId!, to, name: data.givenName ?? '', username: data.username ?? '', expiresAt: live.expiresAt, locale: accountLocale(ctx, req.language, live.locale) });
    },
  };
}

/**
 * Corrects the address of a pending registration and sends the link there (the previous link stops
 * working): from the registration flow, or from a login refused because the address is not
 * confirmed. Produces `validation.failed`, `registration.email_registered` and what resendOutcome does.
 */
export async function changeEmailOutcome<D>(
  ctx: AppContext,
  data: RegistrationData,
  input: Record<string, unknown>,
  req: StepRequest,
  next: (email: string) => { state: string; data: D },
): Promise<StepOutcome<D>> {
  const parsed = parseInput(changeEmailInput, input);
  if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
  const email = parsed.value.email;
  const held = await holdersOf(ctx, ctx.db.kysely, { emailLower: email.toLowerCase() }, data.accountId);
  if (held.emailTaken) return { ok: false, code: 'registration.email_registered', status: 422, fields: { email: 'registration.email_registered' } };
  const out = await resendOutcome(ctx, data, req, () => next(email), { email });
  if (out.ok && held.stale.length) {
    const inner = out.commit!;
    out.commit = async (tx) => {
      await voidRegistrations(ctx, tx, held.stale);
      await inner(tx);
    };
  }
  return out;
}

/**
 * Self-registration of external users (unimi). Produces `validation.failed`, `password.policy`,
 * `password.mismatch`, `registration.username_taken`, `registration.email_registered`,
 * `registration.closed`, `registration.link_expired`, `registration.link_invalid`,
 * `registration.resend_too_soon`, `registration.too_many_registrations`, `registration.too_many_emails`.
 */
export const registrationFlow: FlowDefinition<RegistrationData> = {
  kind: 'registration',
  states,
  secretFields: ['password', 'passwordConfirm', 'token'],
  // The flow outlives its link, so that a late click still hears "expired" rather than "not found".
  lifetimeSeconds: (ctx) => ctx.config.registration.linkLifetimeHours * 3600 * 2,
  async start() {
    return { state: 'awaiting_details', data: {} };
  },
  describe(state, data, ctx, locale) {
    const t = (k: string, p?: Record<string, string | number>) => translate(locale, k, p);
    if (state === 'awaiting_details') {
      const options = registrantTypes.map((r) => ({ value: r, label: t(`registrantType.${r}`) }));
      const consents = consentFieldSpecs(registrationConsents(ctx, locale), locale, consentInputName);
      return { fields: detailsFields(policyHint(ctx, t), options, consents), actions: ['submit'], data: {} };
    }
    if (pastLifetime(ctx, data)) return { fields: [], actions: [], data: { voided: true, registerAgain: '/flows/registration' } };
    return {
      fields: verificationFields,
      actions: ['submit', 'resend', 'change_email'],
      data: {
        email: data.email,
        username: data.username,
        linkLifetimeHours: ctx.config.registration.linkLifetimeHours,
        ...(data.linkExpiresAt ? { linkExpiresAt: data.linkExpiresAt } : {}),
        ...(data.resentTo ? { resentTo: data.resentTo, linkWorksUntil: linkDeadline(ctx, new Date(data.linkExpiresAt ?? ctx.clock.now()), locale) } : {}),
      },
    };
  },
  // The details page keeps the consent versions it shows: they are the ones recorded.
  remember(state, data, ctx) {
    return state === 'awaiting_details' ? keepShownVersions(data, registrationConsents(ctx, ctx.config.institution.defaultLocale)) : null;
  },
  async refuse(ctx, flow) {
    // Past its lifetime a registration is void, whatever is sent (token, resend, change_email):
    // 410 every time, not only the first (the view then offers no action). It is voided on the
    // spot, as the emailed link does, if the expire-unverified job has not removed it yet.
    if (flow.state !== 'awaiting_verification') return null;
    if (flow.data.voided) return voidedFailure();
    const reg = flow.data.accountId ? await findRegistration(ctx.db.kysely, flow.data.accountId) : null;
    if (reg && (reg.verified_at || reg.expires_at > ctx.clock.now().toISOString())) return null;
    if (!reg) return voidedFailure();
    const accountId = flow.data.accountId!;
    return {
      ...voidedFailure(),
      async commit(tx: Tx) {
        await voidRegistrations(ctx, tx, [accountId]);
      },
    };
  },
  async step(ctx, flow, action, input, req) {
    if (flow.state === 'awaiting_details') return details(ctx, flow, input, req);
    if (action === 'resend') return resendOutcome(ctx, flow.data, req, (to) => ({ state: 'awaiting_verification', data: { ...flow.data, email: to, resentTo: to } }));
    if (action === 'change_email') return changeEmailOutcome(ctx, flow.data, input, req, (email) => ({ state: 'awaiting_verification', data: { ...flow.data, email, resentTo: email } }));
    const parsed = parseInput(tokenInput, input);
    if (!parsed.ok) return { ok: false, code: 'validation.failed', fields: parsed.fields };
    const res = await activateByToken(ctx, parsed.value.token, req.meta, { expectAccountId: flow.data.accountId!, completeFlow: false });
    if (!res.ok) {
      return res.code === 'registration.link_expired'
        ? { ok: false, code: res.code, status: 410, data: { voided: true } }
        : { ok: false, code: res.code, fields: { token: res.code } };
    }
    return { ok: true, state: 'completed', data: flow.data, result: { username: res.username, status: 'active' } };
  },
};
