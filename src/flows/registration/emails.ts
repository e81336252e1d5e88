import type { AppContext } from '../../app/context.js';
import type { OutgoingMessage } from '../../outbox/enqueue.js';
import { translate, type Locale } from '../../i18n/index.js';
import { localized } from '../../views/localized.js';
import { nameProblem } from '../../domain/person-fields.js';
import { formatTime } from '../../auth/credentials.js';

/**
 * The emails and SMS of registration, recovery, reset, email change and lifecycle warnings,
 * rendered in the recipient's language when enqueued. Links are absolute under PUBLIC_URL, and
 * are the only links: the one piece of text a person typed that an email carries is their given
 * name in the greeting, and only a name that passes the name checks (no control characters, no
 * web or email address, not too long); with any other the email has no greeting line.
 */
type Params = Record<string, string | number>;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An absolute link under the portal's public address. */
export const publicLink = (ctx: AppContext, path: string) => `${ctx.env.PUBLIC_URL}${path}`;

function institutionName(ctx: AppContext, locale: Locale): string {
  return localized(ctx.config.institution.name, locale);
}

interface Body {
  purpose: string;
  to: string;
  subjectKey: string;
  name?: string | undefined;
  lines: Array<{ key: string; params?: Params }>;
  link?: string;
  after?: Array<{ key: string; params?: Params }>;
  sensitive?: boolean;
  /** False for a message nobody asked for (a lifecycle warning): no "if you did not ask, ignore it". */
  ignorable?: boolean;
}

function email(ctx: AppContext, locale: Locale, b: Body): OutgoingMessage {
  const institution = institutionName(ctx, locale);
  const t = (key: string, p: Params = {}) => translate(locale, key, { institution, ...p });
  const paragraphs = [
    ...(b.name && nameProblem(b.name) === null ? [t('mail.greeting', { name: b.name.trim() })] : []),
    ...b.lines.map((l) => t(l.key, l.params)),
  ];
  const after = [...(b.after ?? []).map((l) => t(l.key, l.params)), ...(b.ignorable === false ? [] : [t('mail.ignore')])];
  const text = [...paragraphs, ...(b.link ? [b.link] : []), ...after, '--', t('mail.signature')].join('\n\n');
  const html = [
    `<!doctype html><html lang="${locale}"><body>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(b.link ? [`<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.link)}</a></p>`] : []),
    ...after.map((p) => `<p>${escapeHtml(p)}</p>`),
    `<p>-- <br>${escapeHtml(t('mail.signature'))}</p></body></html>`,
  ].join('\n');
  return { channel: 'email', purpose: b.purpose, to: b.to, subject: t(b.subjectKey), text, html, sensitive: b.sensitive ?? false, lang: locale };
}

/**
 * The activation link. A link sent with the registration's whole lifetime ahead says how many
 * hours it works; one sent again later (a resend, a corrected address: the lifetime is not
 * extended) gives the time it stops working.
 */
export function verificationEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; token: string; expiresAt: Date }): OutgoingMessage {
  const hours = ctx.config.registration.linkLifetimeHours;
  const whole = v.expiresAt.getTime() - ctx.clock.now().getTime() >= hours * 3_600_000 - 60_000;
  const until = formatTime(v.expiresAt, locale, ctx.config.institution.timeZone);
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
 * activate it (by PIN, with the enrolment password, or through the office's referent), confirm
 * the registration, or nothing (suspended, locked: a reset would not help).
 */
export type UsernameNext = 'reset' | 'activate-pin' | 'activate-password' | 'referent' | 'confirm' | 'none';

const nextStep: Record<Exclude<UsernameNext, 'none'>, { key: string; path: string | null }> = {
  reset: { key: 'mail.username.reset', path: '/flows/password-reset' },
  'activate-pin': { key: 'mail.username.activatePin', path: '/flows/activation-pin' },
  'activate-password': { key: 'mail.username.activatePassword', path: '/flows/activation-password' },
  referent: { key: 'mail.username.activateReferent', path: null },
  confirm: { key: 'mail.username.confirmRegistration', path: '/flows/login' },
};

/**
 * The username reminder: one email per address, naming every account registered with it, with
 * the step that helps each (a password reset only for an account that can sign in; an account
 * not yet active is pointed to its activation, never to a reset that would send nothing).
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
  const items = v.accounts.map((a) => ({ key: a.next === 'reset' || a.next === 'none' ? 'mail.username.item' : 'mail.username.itemInactive', params: { username: a.username } }));
  // A reset for those that can sign in; the way to activate the others, each named once.
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
  return { channel: 'sms', purpose: 'password_reset', to: v.to, text, sensitive: true };
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

export function purgeWarningEmail(ctx: AppContext, locale: Locale, v: { to: string; name: string; username: string; date: string }): OutgoingMessage {
  return email(ctx, locale, {
    purpose: 'purge_warning',
    to: v.to,
    subjectKey: 'mail.purgeWarning.subject',
    name: v.name,
    lines: [{ key: 'mail.purgeWarning.body', params: { username: v.username, date: v.date } }],
    link: publicLink(ctx, `/flows/login?lang=${locale}`),
    after: [{ key: 'mail.purgeWarning.after' }],
    ignorable: false,
  });
}
