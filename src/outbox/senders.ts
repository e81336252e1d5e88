import { smtpEmailSender } from '../adapters/smtp-email-sender.js';
import { webhookSmsSender } from '../adapters/webhook-sms-sender.js';
import type { AppContext } from '../app/context.js';
import type { InstitutionConfig } from '../config/institution-schema.js';
import type { MessageSender } from '../ports/message-sender.js';
import { localized } from '../views/localized.js';

/** The senders the environment configures: SMTP_URL for email, SMS_WEBHOOK_URL for SMS. */
export function sendersFromEnv(ctx: AppContext): MessageSender[] {
  const out: MessageSender[] = [];
  if (ctx.env.SMTP_URL) out.push(smtpEmailSender(ctx.env.SMTP_URL, fromHeader(ctx.config.institution)));
  if (ctx.env.SMS_WEBHOOK_URL) out.push(webhookSmsSender(ctx.env.SMS_WEBHOOK_URL));
  return out;
}

/**
 * The From of the institution's emails: its short name, else its name in its default language
 * (the language most of its emails are written in; an Italian email from "University of Eastern
 * Piedmont" looks like someone else's).
 */
export function fromHeader(inst: InstitutionConfig['institution']): string {
  const name = (inst.shortName ?? localized(inst.name, inst.defaultLocale)).replace(/["\\\r\n]/g, '');
  return `"${name}" <no-reply@${inst.domain}>`;
}

/** Channels whose messages stay in the outbox because no transport is configured. */
export function keptChannels(ctx: AppContext): Array<'email' | 'sms'> {
  const out: Array<'email' | 'sms'> = [];
  if (!ctx.env.SMTP_URL) out.push('email');
  if (!ctx.env.SMS_WEBHOOK_URL) out.push('sms');
  return out;
}
