import type { AppContext } from '../../app/context.js';
import type { OutgoingMessage } from '../../outbox/enqueue.js';
import { translate, type Locale } from '../../i18n/index.js';
import { formatTime } from '../../auth/credentials.js';
import { datePhrase, timeZoneLabel } from '../../i18n/dates.js';
import { institutionEmail as email, institutionName, publicLink } from '../../messages/email.js';

export { publicLink } from '../../messages/email.js';

/**
 * The emails and SMS of registration, recovery, reset, email change and lifecycle warnings,
 * rendered in the recipient's language when enqueued (see messages/email.ts for what every email
 * carries). The one piece of text a person typed that these emails carry is their given name in
 * the greeting, and only a name that passes the name checks.
 */

/**
 * The activation link. A link sent with the registration's whole lifetime ahead says how many
 * hours it works; one sent again later (a resend, a corrected address: the lifetime is not
 * extended) gives the time it stops working.
 */
export function verificationEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; token: string; expiresAt: Date }): OutgoingMessage {
  const hours = ctx.config.registration.linkLifetimeHours;
  const whole = v.expiresAt.getTime() - ctx.clock.now().getTime() >= hours * 3_600_000 - 60_000;
  const tz = ctx.config.institution.timeZone;
  // The deadline is read wherever the person is: it names the institution's time zone.
  const until = `${formatTime(v.expiresAt, locale, tz)} (${timeZoneLabel(v.expiresAt, locale, tz)})`;
  return email(ctx, locale, {
    purpose: 'email_verification',
    to: v.to,
    subjectKey: 'mail.verify.subject',
    name: v.name,
    lines: [whole ? { key: 'mail.verify.body', params: { username: v.username, hours } } : { key: 'mail.verify.bodyUntil', params: { username: v.username, until } }],
    link: publicLink(ctx, `/verify-email?token=${encodeURIComponent(v.token)}&lang=${locale}`),
    after: [whole ? { key: 'mail.verify.after', params: { hours } } : { key: 'mail.verify.afterUntil' }],
    sensitive: true,
  });
}

/**
 * What a username reminder tells to do next with an account: reset the password (it can sign in),
 * sign in with SPID (it has no password), activate it (by PIN, with the enrolment password, or
 * through the office's referent), confirm the registration, or nothing (suspended, locked: a reset
 * would not help).
 */
export type UsernameNext = 'reset' | 'spid' | 'activate-pin' | 'activate-password' | 'referent' | 'confirm' | 'none';

const nextStep: Record<Exclude<UsernameNext, 'none'>, { key: string; path: string | null }> = {
  reset: { key: 'mail.username.reset', path: '/flows/password-reset' },
  spid: { key: 'mail.username.spid', path: '/flows/login' },
  'activate-pin': { key: 'mail.username.activatePin', path: '/flows/activation-pin' },
  'activate-password': { key: 'mail.username.activatePassword', path: '/flows/activation-password' },
  referent: { key: 'mail.username.activateReferent', path: null },
  confirm: { key: 'mail.username.confirmRegistration', path: '/flows/login' },
};

/**
 * The username reminder: one email per address, naming every account registered with it, with
 * the step that helps each (a password reset only for an account that can sign in with a
 * password; a SPID-only one is pointed to SPID; an account not yet active to its activation,
 * never to a reset that would send nothing).
 */
export function usernameEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; accounts: Array<{ username: string; next: UsernameNext }> }): OutgoingMessage {
  const link = (path: string) => publicLink(ctx, `${path}?lang=${locale}`);
  const base = { purpose: 'username_recovery', to: v.to, subjectKey: 'mail.username.subject', name: v.name };
  if (v.accounts.length === 1) {
    const a = v.accounts[0]!;
    const step = a.next === 'none' ? null : nextStep[a.next];
    return email(ctx, locale, {
      ...base,
      lines: [{ key: 'mail.username.body', params: { username: a.username } }, ...(step ? [{ key: step.key }] : [])],
      ...(step?.path ? { link: link(step.path) } : {}),
    });
  }
  const items = v.accounts.map((a) => ({ key: a.next === 'reset' || a.next === 'spid' || a.next === 'none' ? 'mail.username.item' : 'mail.username.itemInactive', params: { username: a.username } }));
  // A reset for those that can sign in with a password; the way in for the others (SPID, an activation), each named once.
  const activations = [...new Set(v.accounts.map((a) => a.next).filter((n): n is Exclude<UsernameNext, 'reset' | 'none'> => n !== 'reset' && n !== 'none'))];
  const resettable = v.accounts.some((a) => a.next === 'reset');
  return email(ctx, locale, {
    ...base,
    lines: [{ key: 'mail.username.several' }, ...items, ...(resettable ? [{ key: 'mail.username.reset' }] : [])],
    ...(resettable ? { link: link('/flows/password-reset') } : {}),
    after: activations.flatMap((n) => {
      const step = nextStep[n];
      return [{ key: step.key }, ...(step.path ? [{ key: 'mail.username.link', params: { link: link(step.path) } }] : [])];
    }),
  });
}

export function resetCodeEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; code: string; minutes: number }): OutgoingMessage {
  return email(ctx, locale, {
    purpose: 'password_reset',
    to: v.to,
    subjectKey: 'mail.reset.subject',
    name: v.name,
    lines: [{ key: 'mail.reset.body', params: { username: v.username, code: v.code, minutes: v.minutes } }],
    sensitive: true,
  });
}

export function resetCodeSms(ctx: AppContext, locale: Locale, v: { to: string; code: string; minutes: number }): OutgoingMessage {
  const text = translate(locale, 'sms.reset', { institution: ctx.config.institution.shortName ?? institutionName(ctx, locale), code: v.code, minutes: v.minutes });
  return { channel: 'sms', purpose: 'password_reset', to: v.to, text, sensitive: true, lang: locale };
}

export function emailChangeEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; token: string; hours: number }): OutgoingMessage {
  return email(ctx, locale, {
    purpose: 'email_change',
    to: v.to,
    subjectKey: 'mail.emailChange.subject',
    name: v.name,
    lines: [{ key: 'mail.emailChange.body', params: { username: v.username, hours: v.hours } }],
    link: publicLink(ctx, `/confirm-email?token=${encodeURIComponent(v.token)}&lang=${locale}`),
    sensitive: true,
  });
}

/**
 * To the address an email change replaced: the change is said (the new address masked), so that
 * someone who took over a session cannot move the account's recovery address in silence.
 */
export function emailChangedNotice(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; masked: string }): OutgoingMessage {
  const helpdesk = ctx.config.institution.helpdeskEmail;
  return email(ctx, locale, {
    purpose: 'email_changed',
    to: v.to,
    subjectKey: 'mail.emailChanged.subject',
    name: v.name,
    lines: [{ key: 'mail.emailChanged.body', params: { username: v.username, masked: v.masked } }, helpdesk ? { key: 'mail.emailChanged.notYou', params: { helpdesk } } : { key: 'mail.emailChanged.notYouNoHelpdesk' }],
    ignorable: false,
  });
}

/** `purgeOn`: the calendar date (YYYY-MM-DD) of the purge. */
export function purgeWarningEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; purgeOn: string }): OutgoingMessage {
  return email(ctx, locale, {
    purpose: 'purge_warning',
    to: v.to,
    subjectKey: 'mail.purgeWarning.subject',
    name: v.name,
    lines: [{ key: 'mail.purgeWarning.body', params: { username: v.username, onDate: datePhrase(v.purgeOn, locale, 'on') } }],
    link: publicLink(ctx, `/flows/login?lang=${locale}`),
    after: [{ key: 'mail.purgeWarning.after' }],
    ignorable: false,
  });
}
