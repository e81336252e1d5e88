import type { DeliverableMessage, MessageSender } from '../ports/message-sender.js';

/**
 * SMS through the generic HTTP gateway at `SMS_WEBHOOK_URL`: `POST` JSON `{to, text, purpose}`;
 * any 2xx answer is a delivery, anything else (or no answer in 10 seconds) is retried later.
 */
export function webhookSmsSender(url: string, timeoutMs = 10_000): MessageSender {
  return {
    channel: 'sms',
    async send(m: DeliverableMessage) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': m.id },
        body: JSON.stringify({ to: m.to, text: m.text, purpose: m.purpose }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Drain the body so the connection can be reused; its content is not needed.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`SMS gateway answered HTTP ${res.status}`);
    },
  };
}
