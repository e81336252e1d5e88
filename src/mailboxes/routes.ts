import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { findPerson } from '../accounts/repository.js';
import type { Account } from '../accounts/types.js';
import { errorBody } from '../app/error-handler.js';
import { CSRF_COOKIE, isSecure, metaOf, sessionOf } from '../app/request-context.js';
import { logoutCsrf } from '../app/routes/html-pages.js';
import { randomId } from '../app/secret.js';
import { seal, unseal } from '../app/seal.js';
import { policyHint } from '../auth/new-password.js';
import { AppError } from '../errors/app-error.js';
import type { FieldCode } from '../errors/catalog.js';
import { messagesOf } from '../flows/kernel/service.js';
import type { FlowMessage } from '../flows/kernel/types.js';
import { translate, type Locale } from '../i18n/index.js';
import { renderMailboxActivate } from '../views/pages/mailbox-activate.js';
import { commentField, renderReferentRequests } from '../views/pages/referent-requests.js';
import { activateMailbox, activationLinkOpen, activationLinkUsed } from './activate.js';
import { accountInOffices, decideRequest, listPendingRequests, requireReferent } from './referent-service.js';
import { signInFirst } from '../app/routes/html-flows.js';
import { parseInput } from '../flows/kernel/input.js';
import { linkRecipient, maskEmail, resendActivationLink } from './resend-link.js';

const idParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/) });
const decisionBody = z.object({ comment: z.string().max(1000).optional().nullable() }).strict();

/** What the activation link's page keeps for its language links: the token, or the outcome. */
type KeptLink = { token: string; done?: undefined } | { token?: undefined; done: { username: string; address: string | null } };
const LINK_COOKIE = 'tessera_mailbox_link';
const LINK_PATH = '/mailbox/activate';
const LINK_SECONDS = 3600;

const referentCsrf = (ctx: AppContext, sessionId: string) => ctx.secrets.hmac('referent-requests', sessionId);

/** An error's messages for a page; `fieldOf` names a field as the page does (`comment` of one request). */
function appErrorMessages(err: AppError, locale: Locale, fieldOf: (field: string) => string = (f) => f): FlowMessage[] {
  const fields = Object.entries(err.opts.fields ?? {});
  if (fields.length === 0) return [{ code: err.code, text: translate(locale, `error.${err.code}`, err.opts.params) }];
  return fields.map(([field, code]) => ({ code, field: fieldOf(field), text: translate(locale, `error.${code}`) }));
}

/** The referent's JSON API (API.md "Referents") and the mailbox activation call of the mobile app. */
export function registerMailboxApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/api/v1/referent/requests', async (req) => {
    const referent = await requireReferent(ctx, await sessionOf(ctx, req));
    return { requests: await listPendingRequests(ctx, referent) };
  });

  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/api/v1/referent/requests/:id/${decision}`, async (req) => {
      const referent = await requireReferent(ctx, await sessionOf(ctx, req));
      const p = idParam.safeParse(req.params);
      if (!p.success) throw new AppError('mailbox.request_not_found');
      const raw = req.body ?? {};
      // A JSON object, nothing else (a text body is not a decision).
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new AppError('request.invalid');
      const body = parseInput(decisionBody, raw as Record<string, unknown>);
      if (!body.ok) throw new AppError('validation.failed', { fields: body.fields as Record<string, FieldCode> });
      const r = await decideRequest(ctx, referent, p.data.id, decision, body.value.comment ?? null, metaOf(req));
      return { id: p.data.id, status: r.status, address: r.address };
    });
  }

  app.post('/api/v1/referent/accounts/:username/mailbox-link', async (req) => {
    const referent = await requireReferent(ctx, await sessionOf(ctx, req));
    const { username } = req.params as { username: string };
    const account = await accountInOffices(ctx, referent, String(username).slice(0, 200));
    return resendActivationLink(ctx, account, { actor: `account:${referent.id}`, meta: metaOf(req) });
  });

  app.post('/api/v1/mailbox/activate', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const r = await activateMailbox(ctx, { token: b.token, newPassword: b.newPassword, newPasswordConfirm: b.newPasswordConfirm }, metaOf(req));
    if (!r.ok) {
      return reply
        .status(r.status ?? 422)
        .send({ ...errorBody(r.code, req.locale, { fields: Object.fromEntries(Object.entries(r.fields ?? {})) }), messages: messagesOf(r, req.locale) });
    }
    return { username: r.username, address: r.address, status: 'active' };
  });
}

/** The referent pages and the activation link's page (HTML forms, CSRF-protected). */
export function registerMailboxHtmlRoutes(app: FastifyInstance, ctx: AppContext): void {
  const html = (reply: FastifyReply, body: string, status = 200) => reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

  // `notice`: the outcome to announce, worked out for the signed-in referent.
  const referentPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    extra: { notice?: (referent: Account) => Promise<string | null>; errors?: FlowMessage[]; status?: number } = {},
  ) => {
    const session = await sessionOf(ctx, req);
    if (!session) return reply.redirect(await signInFirst(ctx, req, reply, '/referent/requests'), 303);
    const referent = await requireReferent(ctx, session);
    return html(
      reply,
      renderReferentRequests({
        ctx,
        locale: req.locale,
        // Also after a post: the language links lead to the list, not to the post-only address.
        path: '/referent/requests',
        signedIn: { username: referent.username, logoutCsrf: logoutCsrf(ctx, session.sessionId) },
        requests: await listPendingRequests(ctx, referent),
        csrf: referentCsrf(ctx, session.sessionId),
        notice: (await extra.notice?.(referent)) ?? null,
        errors: extra.errors ?? [],
      }),
      extra.status,
    );
  };

  app.get('/referent/requests', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const notice = async (referent: Account): Promise<string | null> => {
      if (q.decided && /^[A-Za-z0-9_-]{8,64}$/.test(q.decided)) {
        // The request this referent just decided, and only such a request.
        const r = await ctx.db.kysely
          .selectFrom('mailbox_requests as r')
          .innerJoin('persons as p', 'p.id', 'r.person_id')
          .select(['r.status', 'r.address', 'p.given_name', 'p.family_name'])
          .where('r.id', '=', q.decided)
          .where('r.decided_by', '=', referent.id)
          .executeTakeFirst();
        return r ? translate(req.locale, r.status === 'approved' ? 'referent.approved' : 'referent.rejected', { name: `${r.given_name} ${r.family_name}`, address: r.address ?? '' }) : null;
      }
      if (q.sent) {
        // A colleague of this referent's offices with a mailbox, and where the link went.
        const account = await accountInOffices(ctx, referent, q.sent.slice(0, 200)).catch(() => null);
        const person = account?.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
        const to = person ? linkRecipient(person) : null;
        if (!account?.email || !person || !to) return null;
        return translate(req.locale, 'referent.linkSent', { name: [person.givenName, person.familyName].filter(Boolean).join(' '), address: account.email, sentTo: maskEmail(to) });
      }
      return null;
    };
    return referentPage(req, reply, { notice });
  });

  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/referent/requests/:id/${decision}`, async (req, reply) => {
      const session = await sessionOf(ctx, req);
      if (!session) throw new AppError('auth.unauthenticated');
      const form = (req.body ?? {}) as Record<string, unknown>;
      if (typeof form._csrf !== 'string' || !ctx.secrets.hmacEquals('referent-requests', session.sessionId, form._csrf)) throw new AppError('auth.csrf');
      const referent = await requireReferent(ctx, session);
      const p = idParam.safeParse(req.params);
      if (!p.success) throw new AppError('mailbox.request_not_found');
      const comment = typeof form.comment === 'string' ? form.comment : null;
      try {
        await decideRequest(ctx, referent, p.data.id, decision, comment, metaOf(req));
      } catch (err) {
        // The reason belongs to this request's form: its field is `comment-<request id>`.
        const fieldOf = (f: string) => (f === 'comment' ? commentField(p.data.id) : f);
        if (err instanceof AppError && err.status < 500) return referentPage(req, reply, { errors: appErrorMessages(err, req.locale, fieldOf), status: err.status });
        throw err;
      }
      return reply.redirect(`/referent/requests?decided=${encodeURIComponent(p.data.id)}`, 303);
    });
  }

  // The mailbox activation link for a colleague (the referent's activation of staff, or their
  // credentials recovery), as the JSON API's mailbox-link call; then back to the list with a notice.
  app.post('/referent/mailbox-link', async (req, reply) => {
    const session = await sessionOf(ctx, req);
    if (!session) throw new AppError('auth.unauthenticated');
    const form = (req.body ?? {}) as Record<string, unknown>;
    if (typeof form._csrf !== 'string' || !ctx.secrets.hmacEquals('referent-requests', session.sessionId, form._csrf)) throw new AppError('auth.csrf');
    const referent = await requireReferent(ctx, session);
    const username = typeof form.username === 'string' ? form.username.trim().slice(0, 200) : '';
    try {
      if (username === '') throw new AppError('validation.failed', { fields: { username: 'field.required' } });
      await resendActivationLink(ctx, await accountInOffices(ctx, referent, username), { actor: `account:${referent.id}`, meta: metaOf(req) });
    } catch (err) {
      // The form's one field names the colleague: what refuses the link (no such colleague in the
      // referent's offices, no mailbox to open, no address to send it to) is said on that field.
      const onUsername = (m: FlowMessage): FlowMessage => (m.field ? m : { ...m, field: 'username' });
      if (err instanceof AppError && err.status < 500) return referentPage(req, reply, { errors: appErrorMessages(err, req.locale).map(onUsername), status: err.status });
      throw err;
    }
    return reply.redirect(`/referent/requests?sent=${encodeURIComponent(username)}`, 303);
  });

  // The activation link's page keeps what it needs in a cookie of its own path, so that the
  // language links (the bare path, like every form of the page) show the same page again: the
  // link's token while the password is to be chosen (sealed: the browser cannot read it), then
  // the outcome once it is. The token is never written into another address, nor logged; a
  // token in the address is always used afresh.
  const keepLink = (reply: FastifyReply, state: KeptLink) => {
    const body = JSON.stringify({ ...state, exp: ctx.clock.now().getTime() + LINK_SECONDS * 1000 });
    reply.setCookie(LINK_COOKIE, seal(ctx.secrets.key('mailbox-link'), body, LINK_PATH), { path: LINK_PATH, httpOnly: true, sameSite: 'lax', maxAge: LINK_SECONDS, secure: isSecure(ctx) });
  };
  const forgetLink = (req: FastifyRequest, reply: FastifyReply) => {
    if (req.cookies[LINK_COOKIE] !== undefined) reply.clearCookie(LINK_COOKIE, { path: LINK_PATH, httpOnly: true, sameSite: 'lax', secure: isSecure(ctx) });
  };
  const keptLink = (req: FastifyRequest): KeptLink | null => {
    const sealed = req.cookies[LINK_COOKIE];
    if (!sealed) return null;
    try {
      const v = JSON.parse(unseal(ctx.secrets.key('mailbox-link'), sealed, LINK_PATH)) as { token?: unknown; done?: { username?: unknown; address?: unknown }; exp?: unknown };
      if (typeof v.exp !== 'number' || v.exp <= ctx.clock.now().getTime()) return null;
      if (typeof v.token === 'string') return { token: v.token };
      if (v.done && typeof v.done.username === 'string') return { done: { username: v.done.username, address: typeof v.done.address === 'string' ? v.done.address : null } };
      return null;
    } catch {
      return null;
    }
  };

  // The form's token binds it to this browser (its CSRF cookie) and to the link it was shown for:
  // a form left open while another link was opened in the same browser does not use that one.
  const activateCsrf = (req: FastifyRequest, reply: FastifyReply, token: string): string => {
    let c = req.cookies[CSRF_COOKIE];
    if (!c || !/^[A-Za-z0-9_-]{20,60}$/.test(c)) {
      c = randomId(24);
      reply.setCookie(CSRF_COOKIE, c, { path: '/', httpOnly: true, sameSite: 'lax', secure: isSecure(ctx) });
    }
    return ctx.secrets.hmac('mailbox-activate', `${c}\n${token}`);
  };
  const hint = (locale: Locale) => policyHint(ctx, (k, p) => translate(locale, k, p));
  const page = (req: FastifyRequest, reply: FastifyReply, p: { csrf: string; errors: FlowMessage[]; done: KeptLink['done'] | null; used?: boolean }, status = 200) =>
    html(reply, renderMailboxActivate({ ctx, locale: req.locale, policyHint: hint(req.locale), csrf: p.csrf, errors: p.errors, done: p.done ?? null, used: p.used ?? false }), status);

  app.get('/mailbox/activate', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    // Without a token in the address (a language link): what this browser's link showed last.
    const kept = 'token' in query ? null : keptLink(req);
    if (kept?.done) return page(req, reply, { csrf: '', errors: [], done: kept.done });
    const token = 'token' in query ? query.token : kept?.token;
    // Opening the link only shows the form: mail scanners that follow links use nothing up.
    if (typeof token !== 'string' || !(await activationLinkOpen(ctx, token))) {
      // The link that did the activation, opened again: the account is active, sign in (kept for
      // the page's language links, which then say the same).
      if (typeof token === 'string' && (await activationLinkUsed(ctx, token))) {
        keepLink(reply, { token });
        return page(req, reply, { csrf: '', errors: [], done: null, used: true }, 410);
      }
      forgetLink(req, reply);
      throw new AppError('mailbox.link_invalid');
    }
    keepLink(reply, { token });
    return page(req, reply, { csrf: activateCsrf(req, reply, token), errors: [], done: null });
  });

  app.post('/mailbox/activate', async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const cookie = req.cookies[CSRF_COOKIE];
    const token = keptLink(req)?.token ?? '';
    if (!cookie || !token || typeof form._csrf !== 'string' || !ctx.secrets.hmacEquals('mailbox-activate', `${cookie}\n${token}`, form._csrf)) throw new AppError('auth.csrf');
    let r: Awaited<ReturnType<typeof activateMailbox>>;
    try {
      r = await activateMailbox(ctx, { token, newPassword: form.newPassword, newPasswordConfirm: form.newPasswordConfirm }, metaOf(req));
    } catch (err) {
      if (err instanceof AppError && err.code === 'mailbox.link_invalid') forgetLink(req, reply);
      throw err;
    }
    if (!r.ok) {
      keepLink(reply, { token });
      return page(req, reply, { csrf: form._csrf, errors: messagesOf(r, req.locale), done: null }, r.status ?? 422);
    }
    const done = { username: r.username, address: r.address };
    keepLink(reply, { done });
    return page(req, reply, { csrf: '', errors: [], done });
  });
}
