import { errorCatalog, type ErrorCode, type FieldCode } from './catalog.js';

/**
 * An expected failure with a catalogued code. Anything else thrown becomes `server.internal`
 * at the one boundary in app/error-handler.ts.
 */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly opts: {
      fields?: Record<string, FieldCode | ErrorCode>;
      params?: Record<string, string | number>;
      status?: number;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(code);
    this.name = 'AppError';
    this.status = opts.status ?? errorCatalog[code];
  }
}
