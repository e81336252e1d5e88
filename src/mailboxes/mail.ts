import type { AppContext } from '../app/context.js';
import type { Tx } from '../flows/kernel/types.js';
import { isLocale, translate, type Locale } from '../i18n/index.js';
import { enqueueMessage } from '../outbox/enqueue.js';

export type MailboxMail = 'referentNew' | 'reminder' | 'approved' | 'rejected' | 'assigned' | 'expired' | 'school';

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

/**
 * Renders one of the mailbox emails in `locale` (the recipient's language; the institution's
 * default when they have none on record) and puts it in the outbox inside `tx`. Messages
 * carrying an activation link are marked sensitive (their body is scrubbed once sent).
 */
export async function sendMailboxMail(
  ctx: AppContext,
  tx: Tx,
  kind: MailboxMail,
  to: string,
  locale: Locale | string | null,
  params: Record<string, string | number>,
): Promise<void> {
  const loc: Locale = isLocale(locale) ? locale : ctx.config.institution.defaultLocale;
  await enqueueMessage(tx, ctx.clock.now(), {
    channel: 'email',
    purpose: purposes[kind],
    to,
    subject: translate(loc, `mail.mailbox.${kind}.subject`, params),
    text: translate(loc, `mail.mailbox.${kind}.text`, params),
    sensitive: kind === 'approved' || kind === 'school',
    lang: loc,
  });
}

/** Where a person's notices go: their personal address (the institutional one may not exist yet). */
export const noticeAddress = (p: { personalEmail: string | null }, a: { email: string | null }): string | null => p.personalEmail ?? a.email;
