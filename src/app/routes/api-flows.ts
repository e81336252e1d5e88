import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { randomId } from '../secret.js';
import { AppError } from '../../errors/app-error.js';
import { advanceFlow, apiMayUse, createFlow, loadFlow, mayOpen, retryAfterOf, showFlow, viewOf } from '../../flows/kernel/service.js';
import { flowParams, getFlowDefinition } from '../../flows/kernel/registry.js';
import type { StepRequest } from '../../flows/kernel/types.js';
import { CSRF_COOKIE, metaOf, sessionOf, setSessionCookie } from '../request-context.js';
import { errorBody } from '../error-handler.js';

const body = z.record(z.string(), z.unknown());

/** The JSON API of self-service flows (API.md "Self-service flows"). */
export function registerApiFlowRoutes(app: FastifyInstance, ctx: AppContext): void {
  const stepRequest = async (req: Parameters<typeof sessionOf>[1]): Promise<StepRequest> => ({
    meta: metaOf(req),
    locale: req.locale,
    language: req.language,
    session: await sessionOf(ctx, req),
    channel: 'api',
    browserCsrf: req.cookies?.[CSRF_COOKIE] ?? null,
  });

  app.post('/api/v1/flows/:kind', async (req, reply) => {
    const p = flowParams.parse(req.params);
    // API flows are not bound to a browser: their CSRF token can never match a cookie.
    const flow = await createFlow(ctx, p.kind, await stepRequest(req), { csrfToken: `api:${randomId(12)}`, query: (req.query ?? {}) as Record<string, string> });
    return reply.status(201).send(viewOf(ctx, flow, req.locale));
  });

  app.get('/api/v1/flows/:kind/:id', async (req) => {
    const p = flowParams.parse(req.params);
    const flow = await loadFlow(ctx, p.kind, p.id!);
    if (!apiMayUse(ctx, flow, req.cookies?.[CSRF_COOKIE])) throw new AppError('flow.not_found');
    mayOpen(getFlowDefinition(p.kind), flow, await sessionOf(ctx, req));
    return showFlow(ctx, flow, req.locale);
  });

  app.post('/api/v1/flows/:kind/:id', async (req, reply) => {
    const p = flowParams.parse(req.params);
    const parsed = body.safeParse(req.body ?? {});
    if (!parsed.success) throw new AppError('request.invalid');
    const input = parsed.data;
    if (input.action !== undefined && typeof input.action !== 'string') throw new AppError('request.invalid', { fields: { action: 'field.invalid' } });
    const action = typeof input.action === 'string' ? input.action : 'submit';
    const res = await advanceFlow(ctx, p.kind, p.id!, action, input, await stepRequest(req));
    if (res.sessionToken) setSessionCookie(ctx, reply, res.sessionToken, res.sessionExpiresAt);
    if (!res.ok) {
      // A refusal that knows how long to wait (a lock's end, a PIN's cool-down) says it in the
      // standard header too, for clients that back off by it.
      const retryAfter = retryAfterOf(res);
      if (retryAfter !== null) reply.header('retry-after', String(retryAfter));
      // The unchanged flow with its messages, plus the error envelope of API.md, its message worded
      // as the flow's (advanceFlow: a field may say a code in words of its own).
      const envelope = errorBody(res.error!.code, req.locale, { fields: res.error!.fields, ...(res.error!.params ? { params: res.error!.params } : {}) });
      return reply.status(res.status).send({ ...res.view, error: { ...envelope.error, message: res.error!.message } });
    }
    return reply.status(200).send(res.view);
  });
}
