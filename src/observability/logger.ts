import type { LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, wherever they appear. */
const secretKeys = ['password', 'currentPassword', 'newPassword', 'newPasswordConfirm', 'passwordConfirm', 'pin', 'token', 'code', 'sessionToken', 'clientSecret', 'client_secret', 'SAMLResponse', 'SAMLRequest', 'initialPasswordHash', 'authorization', 'cookie'];

const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

/** Query parameters that carry secrets (email links, OAuth codes): their values are masked in logged URLs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|code|pin|state|SAMLResponse|SAMLRequest|id_token_hint|access_token)=)[^&#]*/gi, '$1[REDACTED]');
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
