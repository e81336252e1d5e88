/** What a failure page knows about the failure; never a secret (no PIN, password, token or flow id). */
export interface TicketContext {
  flow?: string | undefined;
  state?: string | undefined;
  code?: string | undefined;
  reference?: string | undefined;
  time?: string | undefined;
  contact?: string | undefined;
}

/** The link from a failure page to the helpdesk form, prefilled with the failure's context. */
export function ticketLink(c: TicketContext): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(c)) if (typeof v === 'string' && v.length > 0) q.set(k, v);
  return `/helpdesk/tickets/new?${q.toString()}`;
}
