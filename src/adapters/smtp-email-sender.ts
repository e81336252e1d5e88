import type { Transporter } from 'nodemailer';
import type { DeliverableMessage, MessageSender } from '../ports/message-sender.js';

/**
 * Email over SMTP to `SMTP_URL` (e.g. `smtp://user:pass@mail.example.org:587`), with nodemailer,
 * loaded with the first message (an instance without SMTP never loads it).
 */
export function smtpEmailSender(smtpUrl: string, from: string): MessageSender {
  let transport: Promise<Transporter> | undefined;
  // A send gives up well within the outbox's claim on the message (2 minutes), so that no other
  // instance takes the message over while this one may still deliver it. SMTP_URL's own
  // parameters (?connectionTimeout=…) win.
  const open = () => (transport ??= import('nodemailer').then((m) => m.default.createTransport({ url: smtpUrl, connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 60_000 })));
  return {
    channel: 'email',
    async send(m: DeliverableMessage) {
      await (await open()).sendMail({
        from,
        to: m.to,
        subject: m.subject ?? '',
        text: m.text,
        ...(m.html ? { html: m.html } : {}),
        headers: { 'X-Tessera-Message': m.id, 'Auto-Submitted': 'auto-generated', ...(m.lang ? { 'Content-Language': m.lang } : {}) },
      });
    },
    close: async () => {
      if (transport) (await transport).close();
    },
  };
}
