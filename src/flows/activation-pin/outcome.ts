import { errorCatalog, type ErrorCode } from '../../errors/catalog.js';
import type { FlowDefinition, StepOutcome } from '../kernel/types.js';
import type { ActivationPinData } from './machine.js';

export type Outcome = StepOutcome<ActivationPinData>;
export type Req = Parameters<FlowDefinition['step']>[4];

/** A failed step answering `code` with the code's HTTP status. */
export const fail = (code: ErrorCode, extra: Omit<Extract<Outcome, { ok: false }>, 'ok' | 'code'> = {}): Outcome => ({
  ok: false,
  code,
  status: errorCatalog[code],
  ...extra,
});
