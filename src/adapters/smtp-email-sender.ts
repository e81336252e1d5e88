import nodemailer from 'nodemailer';
import type { DeliverableMessage, MessageSender } from '../ports/message-sender.js';

/** Email over SMTP to `SMTP_URL` (e.g. `smtp://user:pass@mail.example.org:587`), with nodemailer. */
export function smtpEmailSender(smtpUrl: string, from: string): MessageSender {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    channel: 'email',
    async send(m: DeliverableMessage) {
      await transport.sendMail({
        from,
        to: m.to,
        subject: m.subject ?? '',
        text: m.text,
        ...(m.html ? { html: m.html } : {}),
        headers: { 'X-Tessera-Message': m.id, 'Auto-Submitted': 'auto-generated' },
      });
    },
    close: () => transport.close(),
  };
}
