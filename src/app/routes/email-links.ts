import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { isSecure, metaOf } from '../request-context.js';
import { activateByToken } from '../../flows/registration/verify.js';
import { confirmEmailChange } from '../../flows/email-change/confirm.js';
import { renderLinkResult, type LinkResult } from '../../views/pages/link-result.js';
import { signedInInfo } from './html-pages.js';

const tokenOf = (q: unknown): string => {
  const v = (q as Record<string, unknown> | undefined)?.token;
  return typeof v === 'string' ? v.slice(0, 300) : '';
};

/** The outcome of an opened link, kept for its page's language links (see below). */
const RESULT_COOKIE = 'tessera_link';
const RESULT_SECONDS = 3600;

/**
 * The links Tessera emails: `GET /verify-email?token=…` activates a registration (as the token
 * through the API does), `GET /confirm-email?token=…` confirms a new address.
 *
 * The token never reaches the page: the language switcher links to the bare path. So that
 * switching language still shows what the link did (not "this link is not valid"), the outcome
 * (never the token) is kept in a signed, HttpOnly cookie scoped to the link's path for an hour,
 * and the bare path shows it again. A token in the address is always used afresh.
 */
export function registerEmailLinkRoutes(app: FastifyInstance, ctx: AppContext): void {
  const sign = (path: string, body: string) => ctx.secrets.hmac('link-result', `${path}\n${body}`);

  const remember = (reply: FastifyReply, path: string, r: LinkResult) => {
    const body = Buffer.from(JSON.stringify({ r, exp: ctx.clock.now().getTime() + RESULT_SECONDS * 1000 })).toString('base64url');
    reply.setCookie(RESULT_COOKIE, `${body}.${sign(path, body)}`, { path, httpOnly: true, sameSite: 'lax', maxAge: RESULT_SECONDS, secure: isSecure(ctx) });
  };

  const remembered = (req: FastifyRequest, path: string, kind: LinkResult['kind']): LinkResult | null => {
    const [body, mac, ...rest] = (req.cookies[RESULT_COOKIE] ?? '').split('.');
    if (!body || !mac || rest.length > 0 || !ctx.secrets.hmacEquals('link-result', `${path}\n${body}`, mac)) return null;
    try {
      const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { r: LinkResult; exp: number };
      return v.exp > ctx.clock.now().getTime() && v.r.kind === kind ? v.r : null;
    } catch {
      return null;
    }
  };

  const send = async (req: FastifyRequest, reply: FastifyReply, path: string, r: LinkResult) => {
    const status = r.ok ? 200 : r.code === 'registration.link_expired' ? 410 : 422;
    return reply
      .status(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderLinkResult(ctx, req.locale, path, r, await signedInInfo(ctx, req)));
  };

  /** Uses the link's token; without one, shows again what this browser's last use of it did. */
  const linkRoute = (path: string, kind: LinkResult['kind'], use: (token: string, req: FastifyRequest) => Promise<LinkResult>) => {
    app.get(path, async (req, reply) => {
      const token = tokenOf(req.query);
      const again = token ? null : remembered(req, path, kind);
      if (again) return send(req, reply, path, again);
      const r = await use(token, req);
      if (token) remember(reply, path, r);
      return send(req, reply, path, r);
    });
  };

  linkRoute('/verify-email', 'registration', async (token, req) => {
    const res = await activateByToken(ctx, token, metaOf(req), { completeFlow: true });
    return res.ok ? { kind: 'registration', ok: true, username: res.username } : { kind: 'registration', ok: false, code: res.code };
  });
  linkRoute('/confirm-email', 'email-change', async (token, req) => {
    const res = await confirmEmailChange(ctx, token, metaOf(req), { completeFlow: true });
    // The notice to the replaced address goes out now, not at the next poll.
    if (res.ok) ctx.kickOutbox();
    return res.ok ? { kind: 'email-change', ok: true, email: res.email } : { kind: 'email-change', ok: false, code: res.code };
  });
}
