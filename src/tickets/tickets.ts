import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { TicketTable } from '../db/schema.js';
import { AppError } from '../errors/app-error.js';
import type { AppContext } from '../app/context.js';
import { randomId } from '../app/secret.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { normalizeEmail } from '../domain/email-mask.js';
import { toE164 } from '../domain/phone.js';
import type { Locale } from '../i18n/index.js';
import { controlCharacter, controlInLines } from '../flows/kernel/input.js';

const optional = (re: RegExp, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().max(max, 'field.too_long').regex(re, 'field.invalid').optional());

/**
 * A helpdesk ticket as submitted. The context fields come from the failure page's link and are
 * restricted to plain identifiers, so nothing secret can ride along in them.
 */
export const ticketInput = z.object({
  flow: optional(/^[a-z][a-z-]{1,40}$/, 41),
  state: optional(/^[a-z][a-z_]{0,40}$/, 41),
  code: optional(/^[a-z_]+(\.[a-z_]+)*$/, 60),
  reference: optional(/^[A-Za-z0-9._-]{1,80}$/, 80),
  time: optional(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 30),
  // Read by the helpdesk: no control characters or marks that reverse the text (a NUL also failed
  // the request on PostgreSQL); the message keeps its line breaks.
  contact: z.string({ error: 'field.required' }).trim().min(1, 'field.required').max(254, 'field.too_long').refine((v) => !controlCharacter.test(v), 'field.control_character'),
  name: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .trim()
      .max(120, 'field.too_long')
      .refine((v) => !controlCharacter.test(v), 'field.control_character')
      .optional(),
  ),
  message: z.string({ error: 'field.required' }).trim().min(1, 'field.required').max(4000, 'field.too_long').refine((v) => !controlInLines.test(v), 'field.control_character'),
});
export type TicketInput = z.infer<typeof ticketInput>;

/** A contact is an email address or a phone number (stored as E.164). Null when neither. */
export function normalizeContact(ctx: AppContext, s: string): string | null {
  if (s.includes('@')) return normalizeEmail(s);
  return toE164(s, ctx.config.institution.defaultCountry);
}

export interface Ticket {
  id: string;
  createdAt: string;
  status: string;
  flow: string | null;
  state: string | null;
  code: string | null;
  reference: string | null;
  time: string | null;
  contact: string;
  name: string | null;
  message: string;
  locale: string;
}

/** Stores a ticket (and an audit entry) and returns its number. */
export async function createTicket(ctx: AppContext, t: TicketInput & { contact: string }, locale: Locale, meta: RequestMeta): Promise<string> {
  const id = `T-${randomId(6).toUpperCase().replace(/[^A-Z0-9]/g, 'X')}`;
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (tx) => {
    await tx
      .insertInto('tickets')
      .values({
        id,
        created_at: now.toISOString(),
        status: 'open',
        flow_kind: t.flow ?? null,
        flow_state: t.state ?? null,
        error_code: t.code ?? null,
        reference: t.reference ?? null,
        occurred_at: t.time ?? null,
        contact: t.contact,
        name: t.name ?? null,
        message: t.message,
        locale,
        ip: meta.ip,
      })
      .execute();
    await audit(tx, now, { actor: 'anonymous', action: 'ticket.opened', ip: meta.ip, correlationId: meta.correlationId, details: { ticket: id, flow: t.flow ?? null, code: t.code ?? null } });
  });
  return id;
}

export async function ticketExists(ctx: AppContext, id: string): Promise<boolean> {
  return (await ctx.db.kysely.selectFrom('tickets').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** Tickets, newest first. */
/**
 * Tickets newest first, `limit` of them; with `before` (a ticket's id), those older than that
 * ticket. `more` tells whether older ones remain (ask again with `before` = the last one's id).
 * Produces `not_found` for a `before` that names no ticket.
 */
export async function listTickets(ctx: AppContext, limit: number, before?: string): Promise<{ tickets: Ticket[]; more: boolean }> {
  let q = ctx.db.kysely.selectFrom('tickets').selectAll();
  if (before !== undefined) {
    const from = await ctx.db.kysely.selectFrom('tickets').select(['id', 'created_at']).where('id', '=', before).executeTakeFirst();
    if (!from) throw new AppError('not_found');
    q = q.where((eb) => eb.or([eb('created_at', '<', from.created_at), eb.and([eb('created_at', '=', from.created_at), eb('id', '<', from.id)])]));
  }
  const found = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  return { tickets: found.slice(0, limit).map(ticketOf), more: found.length > limit };
}

function ticketOf(r: Selectable<TicketTable>): Ticket {
  return {
    id: r.id,
    createdAt: r.created_at,
    status: r.status,
    flow: r.flow_kind,
    state: r.flow_state,
    code: r.error_code,
    reference: r.reference,
    time: r.occurred_at,
    contact: r.contact,
    name: r.name,
    message: r.message,
    locale: r.locale,
  };
}
