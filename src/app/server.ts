import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import { registerAdminRoutes } from '../admin/routes.js';
import { migrationsApplied } from '../db/migrate.js';
import { AppError } from '../errors/app-error.js';
import { registerFlows } from '../flows/index.js';
import { controlCharacter } from '../flows/kernel/input.js';
import { Metrics } from '../observability/metrics.js';
import { loggerOptions } from '../observability/logger.js';
import { registerFlowViews } from '../views/flow-view-registry.js';
import type { AppContext } from './context.js';
import { clientErrorHandler, frameworkErrors, installErrorHandler } from './error-handler.js';
import { chosenLocale, defaultLocaleOf, requestIdOf } from './request-context.js';
import { registerApiFlowRoutes } from './routes/api-flows.js';
import { registerSessionRoutes } from './routes/api-session.js';
import { SESSION_COOKIE } from '../sessions/sessions.js';
import { registerHtmlFlowRoutes } from './routes/html-flows.js';
import { registerHtmlPageRoutes } from './routes/html-pages.js';
import { adminRoutes, apiRoutes, htmlRoutes, rootRoutes } from './features.js';

/**
 * Builds the HTTP server: security headers, cookies, language, the one error boundary, then
 * each area as its own plugin (public pages, JSON API, administration).
 */
export async function buildServer(ctx: AppContext, opts: { logger?: boolean; logStream?: DestinationStream } = {}): Promise<FastifyInstance> {
  registerFlows();
  registerFlowViews();
  const metrics = new Metrics();
  const app = Fastify({
    logger: opts.logger === false ? false : { ...loggerOptions(ctx.env.LOG_LEVEL), ...(opts.logStream ? { stream: opts.logStream } : {}) },
    genReqId: (req) => requestIdOf(req),
    requestIdHeader: false,
    trustProxy: trustProxyOf(ctx.env.TRUST_PROXY),
    bodyLimit: 1_048_576,
    // Path segments up to 256 characters (usernames may have 120); longer ones answer 414 in the
    // error envelope, as do malformed URLs and requests the HTTP parser refuses.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (err, req, reply) => frameworkErrors(ctx)(err, req, reply),
    clientErrorHandler,
  });
  // A request with `Content-Type: application/json` and no body (what many HTTP clients send with
  // every POST or DELETE) has no input, as one without the header: not a malformed body.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => (body === '' ? done(null, undefined) : json(req, String(body), done)));
  app.decorateRequest('locale', 'en');
  app.decorateRequest('language', null);
  app.decorateRequest('sessionInfo', undefined);

  await app.register(cookie);
  const securityHeaders = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    hsts: ctx.env.PUBLIC_URL.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });

  app.addHook('onRequest', async (req, reply) => {
    // On the raw response, as helmet sets them: responses written by a mounted handler (the
    // OpenID provider) carry them too, and a route may still replace one (its own CSP).
    for (const [name, value] of securityHeaders) reply.raw.setHeader(name, value);
    reply.header('x-request-id', String(req.id));
    req.language = chosenLocale(ctx, req, reply);
    req.locale = req.language ?? defaultLocaleOf(ctx, req);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  installErrorHandler(app, ctx);
  // A path segment holding a control character (`/api/v1/admin/accounts/a%00b`) names nothing
  // Tessera keeps: not found, before any lookup (PostgreSQL cannot take a NUL, and answered 500).
  app.addHook('preValidation', async (req) => {
    const params = req.params as Record<string, unknown> | undefined;
    if (params && Object.values(params).some((v) => typeof v === 'string' && controlCharacter.test(v))) throw new AppError('not_found');
  });

  // Probes come every few seconds from every balancer and orchestrator: their requests are not
  // logged; a readiness check that fails is, as a warning.
  const probe = { logLevel: 'warn' as const };
  app.get('/healthz', probe, async () => ({ status: 'ok' }));
  app.get('/readyz', probe, async (req, reply) => {
    try {
      const ok = await migrationsApplied(ctx.db);
      if (!ok) req.log.warn('not ready: migrations are pending');
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'migrations_pending' });
    } catch (err) {
      req.log.warn({ err }, 'not ready: the database is unreachable');
      return reply.status(503).send({ status: 'database_unreachable' });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  // Public pages: the only place that parses HTML forms.
  await app.register(async (html) => {
    await html.register(formbody, { bodyLimit: 65_536 });
    registerHtmlPageRoutes(html, ctx);
    registerHtmlFlowRoutes(html, ctx);
    for (const add of htmlRoutes) await add(html, ctx);
  });
  // JSON API: JSON bodies only, so no other site can post to it from a plain form.
  await app.register(async (api) => {
    // Plain text is not JSON: 415, as a form body is (not a 400 for a body read as a string).
    api.removeContentTypeParser('text/plain');
    api.addHook('onRequest', async (req) => refuseCrossSiteWrite(req));
    registerApiFlowRoutes(api, ctx);
    registerSessionRoutes(api, ctx);
    for (const add of apiRoutes) await add(api, ctx);
  });
  registerAdminRoutes(app, ctx, adminRoutes.map((add) => (admin: FastifyInstance) => add(admin, ctx)));
  for (const add of rootRoutes) await add(app, ctx);
  return app;
}

/**
 * A change asked of the JSON API with the session cookie must come from Tessera's own pages. A
 * POST without a body (approve a request, send a link, sign out) needs no CORS preflight, and
 * SameSite=Lax still sends the cookie from the institution's other sites (a student's page on
 * another subdomain is "same-site"): the browser's Sec-Fetch-Site header tells such requests
 * apart. Programs authenticate with a bearer token and send no such header.
 */
function refuseCrossSiteWrite(req: FastifyRequest): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  const site = req.headers['sec-fetch-site'];
  if ((site === 'cross-site' || site === 'same-site') && req.cookies?.[SESSION_COOKIE] !== undefined) throw new AppError('auth.csrf');
}

/**
 * Which proxies' `X-Forwarded-For` is believed: their addresses (or subnets), or `true` for the
 * one balancer in front of Tessera, whichever address it has. Only the hop that balancer added
 * is read (the address it saw), never the entries before it, which the client writes itself: a
 * made-up address per request would escape the per-address login limits.
 */
export function trustProxyOf(value: string | undefined): string | ((address: string, hop: number) => boolean) | false {
  if (!value) return false;
  return value === 'true' ? (_address, hop) => hop === 0 : value;
}

/**
 * The security headers helmet sends with `options`. They are the same on every response (no
 * per-request nonces), so helmet runs once at start instead of being rebuilt for each request.
 */
export function helmetHeaders(options: HelmetOptions): Array<[name: string, value: string]> {
  const headers = new Map<string, [string, string]>();
  const res = {
    setHeader(name: string, value: string) {
      headers.set(name.toLowerCase(), [name, value]);
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return [...headers.values()];
}
