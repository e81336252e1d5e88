import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { CSRF_COOKIE, isSecure, metaOf } from '../app/request-context.js';
import { randomId } from '../app/secret.js';
import { AppError } from '../errors/app-error.js';
import type { FieldCode } from '../errors/catalog.js';
import { messagesOf } from '../flows/kernel/service.js';
import { parseInput } from '../flows/kernel/input.js';
import { limitParam, parseAdminQuery } from '../admin/query.js';
import { createTicket, listTickets, normalizeContact, ticketExists, ticketInput } from './tickets.js';
import { renderTicketDone, renderTicketForm } from './ticket-page.js';

function csrfFor(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): string {
  let c = req.cookies[CSRF_COOKIE];
  if (!c || !/^[A-Za-z0-9_-]{20,60}$/.test(c)) {
    c = randomId(24);
    reply.setCookie(CSRF_COOKIE, c, { path: '/', httpOnly: true, sameSite: 'lax', secure: isSecure(ctx) });
  }
  return ctx.secrets.hmac('ticket-csrf', c);
}

const PREFILL = ['flow', 'state', 'code', 'reference', 'time', 'contact'] as const;

/** Validates a submitted ticket; returns the field codes on failure. */
function validate(ctx: AppContext, input: Record<string, unknown>) {
  const parsed = parseInput(ticketInput, input);
  // The contact is checked even when another field is wrong, so that every mistake is told at once.
  const raw = typeof input.contact === 'string' ? input.contact.trim() : '';
  const contact = raw !== '' && raw.length <= 254 ? normalizeContact(ctx, raw) : null;
  const badContact = raw !== '' && raw.length <= 254 && !contact;
  if (!parsed.ok || badContact) return { ok: false as const, fields: { ...(badContact ? { contact: 'field.invalid' } : {}), ...(parsed.ok ? {} : parsed.fields) } };
  return { ok: true as const, value: { ...parsed.value, contact: contact! } };
}

/** The helpdesk form behind every failure page's "open a helpdesk ticket" link. */
export function registerTicketHtmlRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/helpdesk/tickets/new', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const values: Record<string, string> = {};
    // Only the context fields are prefilled, and each only if it has the expected shape.
    const checked = ticketInput.partial().safeParse(Object.fromEntries(PREFILL.filter((k) => typeof q[k] === 'string').map((k) => [k, q[k]])));
    if (checked.success) for (const k of PREFILL) if (typeof checked.data[k] === 'string') values[k] = checked.data[k]!;
    const csrf = csrfFor(ctx, req, reply);
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderTicketForm({ ctx, locale: req.locale, path: req.url, csrf, values, messages: [] }));
  });

  app.post('/helpdesk/tickets', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const cookie = req.cookies[CSRF_COOKIE];
    if (!cookie || typeof form._csrf !== 'string' || !ctx.secrets.hmacEquals('ticket-csrf', cookie, form._csrf)) throw new AppError('auth.csrf');
    const v = validate(ctx, form);
    if (!v.ok) {
      const values = Object.fromEntries(Object.entries(form).filter(([k, x]) => typeof x === 'string' && k !== '_csrf')) as Record<string, string>;
      const messages = messagesOf({ ok: false, code: 'validation.failed', fields: v.fields }, req.locale);
      // The language links lead to the form again with the failure's context (this address takes posts only).
      const context = new URLSearchParams(PREFILL.filter((k) => values[k]).map((k) => [k, values[k]!]));
      const path = `/helpdesk/tickets/new${context.size ? `?${context}` : ''}`;
      return reply.status(422).type('text/html; charset=utf-8').send(renderTicketForm({ ctx, locale: req.locale, path, csrf: form._csrf, values, messages }));
    }
    const id = await createTicket(ctx, v.value, req.locale, metaOf(req));
    const path = `/helpdesk/tickets/sent?id=${encodeURIComponent(id)}`;
    return reply.status(201).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderTicketDone({ ctx, locale: req.locale, path, id, contact: v.value.contact }));
  });

  // The confirmation again, in another language: the ticket's number only (its contact is not shown by number).
  app.get('/helpdesk/tickets/sent', async (req, reply) => {
    const q = z.object({ id: z.string().regex(/^T-[A-Z0-9]{4,12}$/) }).safeParse(req.query ?? {});
    if (!q.success || !(await ticketExists(ctx, q.data.id))) return reply.callNotFound();
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderTicketDone({ ctx, locale: req.locale, path: req.url, id: q.data.id, contact: null }));
  });
}

/** `POST /api/v1/tickets` for API clients (the mobile app's failure screens). */
export function registerTicketApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post('/api/v1/tickets', async (req, reply) => {
    const body = z.record(z.string(), z.unknown()).safeParse(req.body ?? {});
    if (!body.success) throw new AppError('request.invalid');
    const v = validate(ctx, body.data);
    if (!v.ok) throw new AppError('validation.failed', { fields: v.fields as Record<string, FieldCode> });
    const id = await createTicket(ctx, v.value, req.locale, metaOf(req));
    return reply.status(201).send({ id });
  });
}

/**
 * `GET /api/v1/admin/tickets`: helpdesk tickets, newest first: `?limit=` (1–500, default 100) of
 * them, `?before=<ticket id>` for those older than that one; `more` says whether older ones remain.
 * Another parameter, or a bad value, is refused (`validation.failed`, naming it).
 */
export function registerTicketAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/api/v1/admin/tickets', async (req) => {
    const q = parseAdminQuery(req.query, { limit: limitParam(500).optional(), before: z.string().regex(/^T-[A-Z0-9]{4,12}$/).optional() });
    return listTickets(ctx, q.limit ?? 100, q.before);
  });
}
