import { AppError } from '../errors/app-error.js';
import { translate } from '../i18n/index.js';

/**
 * A command's AppError as the admin API would answer it: with `--json`, the error envelope on
 * stdout; in any case an Error whose message (the English text and the code) main.ts prints on
 * stderr before exiting 1. Anything else is returned as it is.
 */
export function cliError(err: unknown, json: boolean | undefined, hint = ''): unknown {
  if (!(err instanceof AppError)) return err;
  const message = translate('en', `error.${err.code}`, err.opts.params);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message, fields: err.opts.fields ?? {}, ...(err.opts.params ? { params: err.opts.params } : {}) } })}\n`);
  return new Error(`${message} (${err.code})${hint}`);
}
