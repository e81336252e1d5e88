import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import { AppError } from '../errors/app-error.js';
import { limitParam, parseAdminQuery } from '../admin/query.js';
import { translate } from '../i18n/index.js';
import { renderPage } from '../views/layout.js';
import { keptChannels } from './senders.js';

const statuses = ['pending', 'sending', 'sent', 'dead'] as const;

/**
 * Administrators see the outbox without message bodies (a PIN never reaches an operator's
 * screen): `GET /api/v1/admin/outbox?status=dead`, newest first, `?limit=` (1–500, default 100) at
 * a time, `?before=<message id>` for the older ones (`more` says whether any remain); and put a
 * dead message back in the queue with `POST /api/v1/admin/outbox/{id}/retry`.
 */
export function registerOutboxAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/api/v1/admin/outbox', async (req) => {
    // A message id is made of URL-safe letters (randomId): anything else is refused as a bad
    // value, before a lookup (a NUL in it failed the request on PostgreSQL).
    const q = parseAdminQuery(req.query, { status: z.enum(statuses).optional(), limit: limitParam(500).optional(), before: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() });
    const limit = q.limit ?? 100;
    let query = ctx.db.kysely.selectFrom('outbox').selectAll();
    if (q.status) query = query.where('status', '=', q.status);
    if (q.before !== undefined) {
      const from = await ctx.db.kysely.selectFrom('outbox').select(['id', 'created_at']).where('id', '=', q.before).executeTakeFirst();
      if (!from) throw new AppError('not_found');
      query = query.where((eb) => eb.or([eb('created_at', '<', from.created_at), eb.and([eb('created_at', '=', from.created_at), eb('id', '>', from.id)])]));
    }
    const found = await query.orderBy('created_at', 'desc').orderBy('id').limit(limit + 1).execute();
    const rows = found.slice(0, limit);
    return {
      more: found.length > limit,
      messages: rows.map((r) => ({
        id: r.id,
        channel: r.channel,
        purpose: r.purpose,
        recipient: r.recipient,
        status: r.status,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: r.created_at,
        nextAttemptAt: r.next_attempt_at,
        sentAt: r.sent_at,
      })),
    };
  });

  app.post('/api/v1/admin/outbox/:id/retry', async (req) => {
    const { id } = req.params as { id: string };
    const now = ctx.clock.now();
    const res = await ctx.db.kysely.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('outbox')
        .set({ status: 'pending', attempts: 0, next_attempt_at: now.toISOString() })
        .where('id', '=', id)
        .where('status', '=', 'dead')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) {
        await audit(tx, now, { actor: `admin:${req.admin?.name ?? 'unknown'}`, action: 'outbox.retried', details: { outboxId: id } });
      }
      return Number(r.numUpdatedRows);
    });
    if (res !== 1) throw new AppError('not_found');
    ctx.kickOutbox();
    return { id, status: 'pending' };
  });
}

async function keptMessages(ctx: AppContext) {
  const channels = keptChannels(ctx);
  if (channels.length === 0) return [];
  const rows = await ctx.db.kysely.selectFrom('outbox').selectAll().where('channel', 'in', channels).orderBy('created_at', 'desc').orderBy('id').limit(200).execute();
  return rows.map((r) => {
    const p = JSON.parse(r.payload) as { subject: string | null; text: string; html: string | null; lang?: string };
    return { id: r.id, channel: r.channel, purpose: r.purpose, to: r.recipient, subject: p.subject, text: p.text, html: p.html, lang: p.lang ?? null, status: r.status, createdAt: r.created_at };
  });
}

/** True where the development outbox may be shown: never in production, and only for channels nobody delivers. */
export const devOutboxEnabled = (ctx: AppContext): boolean => ctx.env.NODE_ENV !== 'production' && keptChannels(ctx).length > 0;

/** `GET /dev/outbox` (HTML): messages kept because no transport is configured; development only. */
export function registerDevOutboxHtmlRoutes(app: FastifyInstance, ctx: AppContext): void {
  if (!devOutboxEnabled(ctx)) return;
  app.get('/dev/outbox', async (req, reply) => {
    const t = (k: string, p?: Record<string, string | number>) => translate(req.locale, k, p);
    const messages = await keptMessages(ctx);
    const html = renderPage({
      ctx,
      locale: req.locale,
      title: t('outbox.title'),
      path: req.url,
      children: (
        <div class="card">
          <h1>{t('outbox.title')}</h1>
          <p class="lead">{t('outbox.lead')}</p>
          {messages.length === 0 ? <p>{t('outbox.empty')}</p> : null}
          {messages.map((m) => (
            <article class="outbox-message">
              <h2>
                {m.channel} · {m.purpose} · {m.createdAt}
              </h2>
              <dl class="facts">
                <dt>{t('outbox.to')}</dt>
                <dd>{m.to}</dd>
                {m.subject ? (
                  <>
                    <dt>{t('outbox.subject')}</dt>
                    <dd lang={m.lang ?? undefined}>{m.subject}</dd>
                  </>
                ) : null}
                <dt>{t('outbox.status')}</dt>
                <dd>{m.status}</dd>
              </dl>
              <pre lang={m.lang ?? undefined}>{m.text}</pre>
            </article>
          ))}
        </div>
      ),
    });
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  });
}

/** `GET /api/v1/dev/outbox` (JSON): the same, for scripts and tests; development only. */
export function registerDevOutboxApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  if (!devOutboxEnabled(ctx)) return;
  app.get('/api/v1/dev/outbox', async (_req, reply) => reply.header('cache-control', 'no-store').send({ messages: await keptMessages(ctx) }));
}
