import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from './context.js';
import { isLocale, negotiateLocale, type Locale } from '../i18n/index.js';
import { resolveSession, SESSION_COOKIE } from '../sessions/sessions.js';
import type { FastifyReply as Reply } from 'fastify';
import type { RequestMeta } from '../audit/audit.js';

export const LANG_COOKIE = 'tessera_lang';
export const CSRF_COOKIE = 'tessera_csrf';

declare module 'fastify' {
  interface FastifyRequest {
    locale: Locale;
    /** The language chosen or asked for (`chosenLocale`); null when `locale` is a default. */
    language: Locale | null;
    /** Resolved lazily: the live session of the cookie or bearer token, if any. */
    sessionInfo?: { sessionId: string; accountId: string } | null;
  }
}

export function requestIdOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{8,80}$/.test(given) ? given : randomUUID();
}

/** Language: `?lang=` (remembered in a cookie), then the cookie, then Accept-Language, then the institution's default. */
export function resolveLocale(ctx: AppContext, req: FastifyRequest, reply: FastifyReply | null): Locale {
  return chosenLocale(ctx, req, reply) ?? defaultLocaleOf(ctx, req);
}

/** The language when none was chosen: English for the API, the institution's default for pages. */
export const defaultLocaleOf = (ctx: AppContext, req: FastifyRequest): Locale => (req.url.startsWith('/api/') ? 'en' : ctx.config.institution.defaultLocale);

/**
 * The language the person chose (`?lang=`, remembered in a cookie, or the cookie) or their
 * browser or app asks for (Accept-Language); null when none of Tessera's languages was asked for
 * and the answer falls back to a default. Only a chosen language is remembered with the account.
 */
export function chosenLocale(ctx: AppContext, req: FastifyRequest, reply: FastifyReply | null): Locale | null {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (isLocale(q)) {
    reply?.setCookie(LANG_COOKIE, q, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 31_536_000, secure: isSecure(ctx) });
    return q;
  }
  if (!req.url.startsWith('/api/')) {
    const c = req.cookies?.[LANG_COOKIE];
    if (isLocale(c)) return c;
  }
  return negotiateLocale(req.headers['accept-language'], null);
}

/**
 * The language of a JSON answer outside the API (an error of a page route asked without
 * `Accept: text/html`): a language chosen on the site still wins, then Accept-Language, then
 * English — never the institution's default, which is for pages (API.md "Errors").
 */
export function jsonLocale(req: FastifyRequest): Locale {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (isLocale(q)) return q;
  const c = req.cookies?.[LANG_COOKIE];
  if (isLocale(c)) return c;
  return negotiateLocale(req.headers['accept-language'], 'en');
}

export const isSecure = (ctx: AppContext): boolean => ctx.env.PUBLIC_URL.startsWith('https://');

export function metaOf(req: FastifyRequest): RequestMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, correlationId: String(req.id), userAgent: typeof ua === 'string' ? ua : null };
}

export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1]! : null;
}

/** The session of the request: the session cookie, or `Authorization: Bearer <sessionToken>`. */
export async function sessionOf(ctx: AppContext, req: FastifyRequest): Promise<{ sessionId: string; accountId: string } | null> {
  if (req.sessionInfo !== undefined) return req.sessionInfo;
  const token = req.cookies?.[SESSION_COOKIE] ?? (req.url.startsWith('/api/v1/admin') ? null : bearerToken(req));
  req.sessionInfo = token ? await resolveSession(ctx.db.kysely, token, ctx.clock.now()) : null;
  return req.sessionInfo;
}

/**
 * The session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS, ending with the session. Its
 * lifetime goes out as Max-Age (seconds left by the server's clock), not as an absolute Expires
 * date, so a browser whose clock differs from the server's keeps it exactly as long.
 */
export function setSessionCookie(ctx: AppContext, reply: Reply, token: string, expires?: Date): void {
  const maxAge = expires ? Math.max(0, Math.floor((expires.getTime() - ctx.clock.now().getTime()) / 1000)) : undefined;
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: isSecure(ctx), ...(maxAge !== undefined ? { maxAge } : {}) });
}
