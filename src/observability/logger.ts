import type { LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, wherever they appear. */
const secretKeys = ['password', 'currentPassword', 'newPassword', 'newPasswordConfirm', 'passwordConfirm', 'pin', 'token', 'code', 'sessionToken', 'clientSecret', 'client_secret', 'SAMLResponse', 'SAMLRequest', 'initialPasswordHash', 'authorization', 'cookie'];

const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

/**
 * Masks the secrets of a URL before it is logged: the values of query parameters that carry
 * them (email links, OAuth codes), and flow ids, which are bearer secrets (`/flows/{kind}/{id}…`
 * and `/api/v1/flows/{kind}/{id}`, also URL-encoded inside a parameter such as `return_to`).
 */
export function redactUrl(url: string): string {
  return url
    .replace(/((?:\/|%2F)flows(?:\/|%2F)[^/?#&%]+(?:\/|%2F))[^/?#&%]+/gi, '$1[REDACTED]')
    .replace(/([?&](?:token|code|pin|state|SAMLResponse|SAMLRequest|id_token_hint|access_token)=)[^&#]*/gi, '$1[REDACTED]');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[REDACTED]' },
    serializers: {
      req(req: { method: string; url: string; id: string; ip?: string }) {
        return { id: req.id, method: req.method, url: redactUrl(req.url), ip: req.ip };
      },
    },
  };
}
