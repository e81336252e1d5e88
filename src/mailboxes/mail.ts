import type { AppContext } from '../app/context.js';
import type { Tx } from '../flows/kernel/types.js';
import { calendarDate, datePhrase } from '../i18n/dates.js';
import { isLocale, type Locale } from '../i18n/index.js';
import { institutionEmail, publicLink, type EmailBody, type Line } from '../messages/email.js';
import { enqueueMessage } from '../outbox/enqueue.js';

export type MailboxMail = 'referentNew' | 'reminder' | 'approved' | 'rejected' | 'assigned' | 'expired' | 'school';

/**
 * What each mailbox email needs. `office` is an office's code (the email names the office);
 * `replacesPassword`: the account already has a password, which the one chosen with the link
 * replaces (the mailbox and the portal share the account's credentials).
 */
export interface MailboxMailParams {
  referentNew: { name: string; office: string | null; url: string };
  reminder: { name: string; office: string | null; expiresAt: Date; url: string };
  approved: { name: string; address: string; url: string; hours: number; replacesPassword: boolean };
  rejected: { name: string; comment: string };
  assigned: { name: string; address: string };
  expired: { name: string };
  /** `from`: the calendar date (YYYY-MM-DD) the school's mailbox takes effect. */
  school: { school: string; address: string; url: string; hours: number; from: string; replacesPassword: boolean };
}

const purposes: Record<MailboxMail, string> = {
  referentNew: 'mailbox_request',
  reminder: 'mailbox_request_reminder',
  approved: 'mailbox_activation',
  rejected: 'mailbox_rejected',
  assigned: 'mailbox_assigned',
  expired: 'mailbox_request_expired',
  school: 'school_mailbox_activation',
};

/** Absolute links of the mailbox pages, under PUBLIC_URL. */
export const referentPageUrl = (ctx: AppContext) => `${ctx.env.PUBLIC_URL}/referent/requests`;

/** The office as people know it: its name, or its code when the office is not on record. */
async function officeName(tx: Tx, code: string | null): Promise<string> {
  if (!code) return '—';
  const row = await tx.selectFrom('org_units').select('name').where('code', '=', code).executeTakeFirst();
  return row?.name ?? code;
}

/** The body of each email (see messages/email.ts for the greeting, subject and signature). */
async function body(ctx: AppContext, tx: Tx, kind: MailboxMail, loc: Locale, p: MailboxMailParams[MailboxMail]): Promise<Omit<EmailBody, 'purpose' | 'to'>> {
  const k = (part: string) => `mail.mailbox.${kind}.${part}`;
  // Nobody asked for these (a decision, a notice, a reminder): no "if you did not ask, ignore it".
  const common = { subjectKey: k('subject'), ignorable: false };
  const neverAPassword: Line = { key: 'mail.mailbox.noPassword' };
  const replaces = (v: { replacesPassword: boolean }): Line[] => (v.replacesPassword ? [{ key: 'mail.mailbox.replacesPassword' }] : []);
  // A request can be sent again from the account page.
  const accountPage = publicLink(ctx, `/account?lang=${loc}`);
  switch (kind) {
    case 'referentNew': {
      const v = p as MailboxMailParams['referentNew'];
      return { ...common, subjectParams: { name: v.name }, lines: [{ key: k('body'), params: { name: v.name, office: await officeName(tx, v.office) } }], link: v.url };
    }
    case 'reminder': {
      const v = p as MailboxMailParams['reminder'];
      // The day the request expires is the institution's.
      const onDate = datePhrase(calendarDate(v.expiresAt, ctx.config.institution.timeZone), loc, 'on');
      return { ...common, subjectParams: { name: v.name }, lines: [{ key: k('body'), params: { name: v.name, office: await officeName(tx, v.office), onDate } }], link: v.url };
    }
    case 'approved': {
      const v = p as MailboxMailParams['approved'];
      return { ...common, name: v.name, lines: [{ key: k('body'), params: { address: v.address, hours: v.hours } }], link: v.url, after: [...replaces(v), neverAPassword], sensitive: true };
    }
    case 'rejected': {
      const v = p as MailboxMailParams['rejected'];
      return { ...common, name: v.name, lines: [{ key: k('body') }, { key: 'mail.mailbox.comment', params: { comment: v.comment } }, { key: 'mail.mailbox.newRequest' }], link: accountPage };
    }
    case 'assigned': {
      const v = p as MailboxMailParams['assigned'];
      return { ...common, name: v.name, lines: [{ key: k('body'), params: { address: v.address } }] };
    }
    case 'expired': {
      const v = p as MailboxMailParams['expired'];
      return { ...common, name: v.name, lines: [{ key: k('body') }, { key: 'mail.mailbox.newRequest' }], link: accountPage };
    }
    case 'school': {
      const v = p as MailboxMailParams['school'];
      return {
        ...common,
        subjectParams: { school: v.school },
        greeting: { key: k('greeting'), params: { school: v.school } },
        lines: [{ key: k('body'), params: { address: v.address, hours: v.hours, fromDate: datePhrase(v.from, loc, 'from') } }],
        link: v.url,
        after: [...replaces(v), neverAPassword],
        sensitive: true,
      };
    }
  }
}

/**
 * Renders one of the mailbox emails in `locale` (the recipient's language; the institution's
 * default when they have none on record) and puts it in the outbox inside `tx`. Messages
 * carrying an activation link are marked sensitive (their body is scrubbed once sent).
 */
export async function sendMailboxMail<K extends MailboxMail>(
  ctx: AppContext,
  tx: Tx,
  kind: K,
  to: string,
  locale: Locale | string | null,
  params: MailboxMailParams[K],
): Promise<void> {
  const loc: Locale = isLocale(locale) ? locale : ctx.config.institution.defaultLocale;
  const b = await body(ctx, tx, kind, loc, params);
  // The page a link opens (a mailbox activation, the referent's requests) speaks the email's
  // language, whatever the browser's.
  const link = b.link?.startsWith(`${ctx.env.PUBLIC_URL}/`) && !/[?&]lang=/.test(b.link) ? `${b.link}${b.link.includes('?') ? '&' : '?'}lang=${loc}` : b.link;
  await enqueueMessage(tx, ctx.clock.now(), institutionEmail(ctx, loc, { ...b, ...(link ? { link } : {}), purpose: purposes[kind], to }));
}

/**
 * Whether the password chosen with a mailbox link replaces one the account signs in with now (an
 * active account with a password): its email then says so. A pending account's enrolment password
 * is not one its person uses.
 */
export const linkReplacesPassword = (a: { status: string; passwordHash: string | null }): boolean => a.status === 'active' && a.passwordHash !== null;

/** Where a person's notices go: their personal address (the institutional one may not exist yet). */
export const noticeAddress = (p: { personalEmail: string | null }, a: { email: string | null }): string | null => p.personalEmail ?? a.email;
