/** A message as the dispatcher hands it to a transport. */
export interface DeliverableMessage {
  id: string;
  channel: 'email' | 'sms';
  purpose: string;
  to: string;
  subject: string | null;
  text: string;
  html: string | null;
  /** The language it is written in, when known. */
  lang?: string | undefined;
}

/**
 * A transport for one channel (SMTP, an SMS gateway). `send` resolves when the transport
 * accepted the message and rejects with an Error whose message says why (never the body).
 */
export interface MessageSender {
  channel: 'email' | 'sms';
  send(m: DeliverableMessage): Promise<void>;
  close?(): Promise<void> | void;
}
