/**
 * The one catalogue of error codes (`area.snake_case`) and the HTTP status each maps to.
 * Every code has a translated message `error.<code>` in src/i18n/messages/errors.ts (checked by a test).
 * Codes are a public contract: add freely, never rename.
 */
export const errorCatalog = {
  'request.invalid': 400,
  'request.unsupported_media_type': 415,
  'request.too_large': 413,
  'validation.failed': 422,
  'auth.invalid_credentials': 401,
  'auth.federated_only': 403,
  'auth.account_locked': 429,
  'auth.unauthenticated': 401,
  'auth.forbidden': 403,
  'auth.csrf': 403,
  'auth.rate_limited': 429,
  'activation.no_match': 422,
  'activation.already_active': 409,
  'activation.pin_invalid': 422,
  'activation.pin_locked': 429,
  'activation.pin_expired': 422,
  'activation.resend_too_soon': 429,
  'national_id.invalid': 422,
  'password.policy': 422,
  'password.mismatch': 422,
  'registration.username_taken': 409,
  'registration.email_registered': 409,
  'registration.link_expired': 410,
  'registration.closed': 403,
  'mailbox.not_eligible': 422,
  'reset.code_invalid': 422,
  'access.service_not_available': 403,
  'flow.expired': 410,
  'flow.not_found': 404,
  'flow.wrong_state': 409,
  'flow.unknown_kind': 404,
  'flow.session_required': 401,
  'account.not_found': 404,
  'job.unknown': 404,
  'provisioning.unknown_target': 404,
  'server.busy': 503,
  'server.internal': 500,
  'not_found': 404,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorCatalog;

/** Codes for a single field, used in `error.fields`, flow messages and import reports. */
export const fieldCodes = [
  'field.required',
  'field.invalid',
  'field.too_long',
  'field.unknown',
  'field.duplicate',
  'email.invalid',
  'phone.invalid',
  'date.invalid',
  'tax_code.invalid',
  'amka.invalid',
  'insurance.invalid',
  'country.invalid',
  'password_hash.unsupported',
  'status.invalid',
  'population.invalid',
  'contract_type.invalid',
] as const;
export type FieldCode = (typeof fieldCodes)[number];
