import type { Kysely } from 'kysely';
import { randomId } from '../app/secret.js';
import { preparedQuery } from '../db/prepared.js';
import type { Database } from '../db/schema.js';

/**
 * A message ready to send. Rendered when enqueued (in the recipient's language), so the
 * dispatcher only delivers. `sensitive` messages (codes, links) have their body scrubbed once sent.
 */
export interface OutgoingMessage {
  channel: 'email' | 'sms';
  /** Why it is sent: activation_pin, password_reset, email_verification, … (also the SMS webhook's `purpose`). */
  purpose: string;
  /** An email address or an E.164 phone number. */
  to: string;
  subject?: string;
  text: string;
  html?: string;
  sensitive?: boolean;
  /** The language it is written in (BCP 47): sent as Content-Language, marked on /dev/outbox. */
  lang?: string;
}

const insertMessage = preparedQuery((db, id: string, channel: string, purpose: string, recipient: string, payload: string, at: string) =>
  db.insertInto('outbox').values({
    id,
    channel,
    purpose,
    recipient,
    payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: at,
    last_error: null,
    created_at: at,
    sent_at: null,
  }),
);

/**
 * Adds a message to the outbox inside `tx`: the state change that causes a message and the
 * message itself commit together or not at all. The dispatcher delivers it after the commit.
 */
export async function enqueueMessage(tx: Kysely<Database>, at: Date, m: OutgoingMessage): Promise<string> {
  const id = randomId();
  const payload = JSON.stringify({ subject: m.subject ?? null, text: m.text, html: m.html ?? null, sensitive: m.sensitive ?? false, ...(m.lang ? { lang: m.lang } : {}) });
  await insertMessage.run(tx, id, m.channel, m.purpose, m.to, payload, at.toISOString());
  return id;
}
