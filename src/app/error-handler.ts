import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { isDatabaseUnavailable } from '../db/wait.js';
import type { ErrorCode } from '../errors/catalog.js';
import { translate, type Locale } from '../i18n/index.js';
import type { AppContext } from './context.js';
import { jsonLocale, resolveLocale } from './request-context.js';
import { renderErrorPage } from '../views/pages/error-page.js';

/** The JSON error envelope of API.md. */
export function errorBody(code: ErrorCode | string, locale: Locale, opts: { fields?: Record<string, string>; params?: Record<string, string | number> } = {}) {
  // `params` (when the message has any) carry its values for programs, e.g. the end of a lock.
  return { error: { code, message: translate(locale, `error.${code}`, opts.params), fields: opts.fields ?? {}, ...(opts.params ? { params: opts.params } : {}) } };
}

const isApi = (req: FastifyRequest) => req.url.startsWith('/api/');

/**
 * The one boundary where anything thrown becomes a response: an AppError keeps its code and
 * status; Fastify's own errors (bad JSON, wrong content type, body too large) map to `request.*`;
 * anything else is logged and answered `server.internal` with the request id as reference.
 */
export function installErrorHandler(app: FastifyInstance, ctx: AppContext): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    const unavailable = err instanceof AppError ? null : isDatabaseUnavailable(err);
    let code: string;
    let status: number;
    let fields: Record<string, string> | undefined;
    let params: Record<string, string | number> | undefined;
    if (err instanceof AppError) {
      code = err.code;
      status = err.status;
      fields = err.opts.fields as Record<string, string> | undefined;
      params = err.opts.params;
      for (const [k, v] of Object.entries(err.opts.headers ?? {})) reply.header(k, v);
    } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      status = err.statusCode;
      code = status === 415 ? 'request.unsupported_media_type' : status === 413 ? 'request.too_large' : status === 429 ? 'auth.rate_limited' : 'request.invalid';
    } else if (unavailable) {
      // Nothing was done (the transaction did not commit): the same request can be sent again.
      req.log.warn({ err }, 'the database could not serve the request');
      code = unavailable === 'busy' ? 'server.busy' : 'server.unavailable';
      status = 503;
      reply.header('retry-after', '5');
    } else {
      req.log.error({ err }, 'unhandled error');
      code = 'server.internal';
      status = 500;
    }
    const locale = req.locale ?? resolveLocale(ctx, req, null);
    send(ctx, req, reply, status, code, locale, { ...(fields ? { fields } : {}), ...(params ? { params } : {}) });
  });

  app.setNotFoundHandler((req, reply) => {
    const locale = req.locale ?? resolveLocale(ctx, req, null);
    send(ctx, req, reply, 404, 'not_found', locale, {});
  });
}

/**
 * Errors the router meets before any route or hook runs (a malformed URL, a path segment longer
 * than the router keeps): the same envelope and pages as every other error.
 */
export function frameworkErrors(ctx: AppContext) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
    send(ctx, req, reply, status, 'request.invalid', resolveLocale(ctx, req, null), {});
  };
}

/**
 * A request the HTTP parser refused (headers too large, a malformed request line, a timeout)
 * never reaches Fastify: answered on the socket in the error envelope, in English (its headers
 * were not read).
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'request.too_large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request.invalid']
        : [400, 'Bad Request', 'request.invalid'];
  const body = JSON.stringify(errorBody(code, 'en'));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

function send(
  ctx: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  locale: Locale,
  opts: { fields?: Record<string, string>; params?: Record<string, string | number> },
) {
  if (isApi(req) || !(req.headers.accept ?? '').includes('text/html')) {
    return reply
      .status(status)
      .type('application/json; charset=utf-8')
      .send(errorBody(code, isApi(req) ? locale : jsonLocale(req), opts));
  }
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(renderErrorPage(ctx, req, { status, code, locale, params: opts.params, reference: String(req.id) }));
}
