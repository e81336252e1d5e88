import { smtpEmailSender } from '../adapters/smtp-email-sender.js';
import { webhookSmsSender } from '../adapters/webhook-sms-sender.js';
import type { AppContext } from '../app/context.js';
import type { MessageSender } from '../ports/message-sender.js';
import { localized } from '../views/localized.js';

/** The senders the environment configures: SMTP_URL for email, SMS_WEBHOOK_URL for SMS. */
export function sendersFromEnv(ctx: AppContext): MessageSender[] {
  const out: MessageSender[] = [];
  const inst = ctx.config.institution;
  if (ctx.env.SMTP_URL) {
    const name = (inst.shortName ?? localized(inst.name, 'en')).replace(/["\\\r\n]/g, '');
    out.push(smtpEmailSender(ctx.env.SMTP_URL, `"${name}" <no-reply@${inst.domain}>`));
  }
  if (ctx.env.SMS_WEBHOOK_URL) out.push(webhookSmsSender(ctx.env.SMS_WEBHOOK_URL));
  return out;
}

/** Channels whose messages stay in the outbox because no transport is configured. */
export function keptChannels(ctx: AppContext): Array<'email' | 'sms'> {
  const out: Array<'email' | 'sms'> = [];
  if (!ctx.env.SMTP_URL) out.push('email');
  if (!ctx.env.SMS_WEBHOOK_URL) out.push('sms');
  return out;
}
