import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../context.js';
import { metaOf } from '../request-context.js';
import { activateByToken } from '../../flows/registration/verify.js';
import { confirmEmailChange } from '../../flows/email-change/confirm.js';
import { renderLinkResult, type LinkResult } from '../../views/pages/link-result.js';
import { signedInInfo } from './html-pages.js';

const tokenOf = (q: unknown): string => {
  const v = (q as Record<string, unknown> | undefined)?.token;
  return typeof v === 'string' ? v.slice(0, 300) : '';
};

/**
 * The links Tessera emails: `GET /verify-email?token=…` activates a registration (as the token
 * through the API does), `GET /confirm-email?token=…` confirms a new address. The token never
 * reaches the page (the language switcher links to the bare path).
 */
export function registerEmailLinkRoutes(app: FastifyInstance, ctx: AppContext): void {
  const send = async (req: Parameters<typeof signedInInfo>[1], reply: FastifyReply, path: string, r: LinkResult) => {
    const status = r.ok ? 200 : r.code === 'registration.link_expired' ? 410 : 422;
    return reply
      .status(status)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderLinkResult(ctx, req.locale, path, r, await signedInInfo(ctx, req)));
  };
  app.get('/verify-email', async (req, reply) => {
    const res = await activateByToken(ctx, tokenOf(req.query), metaOf(req), { completeFlow: true });
    return send(req, reply, '/verify-email', res.ok ? { kind: 'registration', ok: true, username: res.username } : { kind: 'registration', ok: false, code: res.code });
  });
  app.get('/confirm-email', async (req, reply) => {
    const res = await confirmEmailChange(ctx, tokenOf(req.query), metaOf(req), { completeFlow: true });
    return send(req, reply, '/confirm-email', res.ok ? { kind: 'email-change', ok: true, email: res.email } : { kind: 'email-change', ok: false, code: res.code });
  });
}
