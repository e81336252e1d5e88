import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../app/context.js';
import { lazyProvider, oidcRoutes } from './lazy-provider.js';
import { plainUserinfo } from './userinfo.js';

type Callback = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The raw request as the provider is to see it: at PUBLIC_URL's host and scheme, whatever Host a
 * balancer passed on (or a client made up), from the client address Fastify resolved (by
 * TRUST_PROXY). Every address the provider writes (discovery, the way back after sign-in) is then
 * PUBLIC_URL's. The provider reads these forwarded headers (provider.ts sets it to trust them);
 * the values are Tessera's own, not the client's.
 */
export function publicRequest(ctx: AppContext, req: FastifyRequest): IncomingMessage {
  const u = publicUrlOf(ctx.env.PUBLIC_URL);
  req.raw.headers['x-forwarded-host'] = u.host;
  req.raw.headers['x-forwarded-proto'] = u.proto;
  req.raw.headers['x-forwarded-for'] = req.ip;
  return req.raw;
}
const parsedUrls = new Map<string, { host: string; proto: string }>();
function publicUrlOf(url: string): { host: string; proto: string } {
  let u = parsedUrls.get(url);
  if (!u) {
    const p = new URL(url);
    u = { host: p.host, proto: p.protocol.slice(0, -1) };
    parsedUrls.set(url, u);
  }
  return u;
}
const callbacks = new WeakMap<Provider, Callback>();

/** The provider's request handler, composed once per provider (composing it is not cheap). */
function callbackOf(provider: Provider): Callback {
  let cb = callbacks.get(provider);
  if (!cb) {
    cb = provider.callback() as unknown as Callback;
    callbacks.set(provider, cb);
  }
  return cb;
}

/**
 * Hands the provider's endpoints (discovery and everything under /oidc but the interaction
 * pages) to oidc-provider with the raw request and response. The plugin has no body parsers of
 * its own: the provider reads the body itself. Fastify's security headers (set on the raw
 * response in onRequest) stay on the provider's answers.
 */
export async function mountProvider(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const provider = await lazyProvider(ctx);
      reply.hijack();
      await callbackOf(provider)(publicRequest(ctx, req), reply.raw);
    };
    // Userinfo's plain case is answered without the provider's pipeline (see userinfo.ts).
    scope.get(oidcRoutes.userinfo, async (req, reply) => {
      const provider = await lazyProvider(ctx);
      const claims = await plainUserinfo(ctx, provider, req);
      if (!claims) return handler(req, reply);
      return reply.header('cache-control', 'no-store').send(claims);
    });
    scope.all('/.well-known/openid-configuration', handler);
    scope.all('/oidc/*', handler);
  });
}
