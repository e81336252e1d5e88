import type { Kysely } from 'kysely';
import type { AppContext } from '../../app/context.js';
import type { RequestMeta } from '../../audit/audit.js';
import type { Database } from '../../db/schema.js';
import type { ErrorCode, FieldCode } from '../../errors/catalog.js';
import type { Locale } from '../../i18n/index.js';

export type FieldType = 'text' | 'password' | 'email' | 'tel' | 'date' | 'select' | 'checkbox' | 'radio' | 'number';

/** One input the current state asks for; the same list drives the HTML form and the JSON API. */
export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
  options?: Array<{ value: string; label: string }>;
  autocomplete?: string;
  /** Message key of a hint shown under the field (a flow's view carries it translated). */
  hint?: string;
  /** Message key of the label; `field.<name>` when absent (a flow's view carries it translated). */
  label?: string;
  /** A label already in the page's language (e.g. an institution's consent text); wins over `label`. */
  labelText?: string;
  maxLength?: number;
  /** The value the field starts with (what the person typed wins when the page is shown again). */
  value?: string;
  /** A consent's checkbox (its text is `labelText`): what is recorded with the choice, and the notice it refers to. */
  consent?: ConsentSpec;
}

/** What an app needs to show a consent besides its text, and what is recorded with the person's choice. */
export interface ConsentSpec {
  /** The consent's id (recorded with the choice). */
  id: string;
  /** The version of the text shown (recorded with the choice). */
  version: string;
  /** The institution's notice the consent refers to: its address in the view's language, its version, and the link's text. */
  notice?: { url: string; version: string; text: string };
}

export interface FlowMessage {
  code: string;
  field?: string;
  text: string;
}

/** A stored flow, as the kernel hands it to a flow's service. */
export interface Flow<D = Record<string, unknown>> {
  id: string;
  kind: string;
  state: string;
  data: D;
  accountId: string | null;
  csrfToken: string;
  locale: Locale;
  attempts: number;
  expiresAt: Date;
  version: number;
  createdAt: Date;
}

/** Who is calling: request facts, language and (when signed in) the session. */
export interface StepRequest {
  meta: RequestMeta;
  locale: Locale;
  /** The language chosen or asked for; absent or null when `locale` is a default (remembered with the account only when given). */
  language?: Locale | null;
  session: { sessionId: string; accountId: string } | null;
  channel: 'api' | 'browser';
  /**
   * API requests: the CSRF cookie of the browser they come from, if any. A flow started in a
   * browser is served by the API only with that browser's cookie (e.g. an app's web view).
   */
  browserCsrf?: string | null;
}

export type Tx = Kysely<Database>;

export type StepOutcome<D> =
  | {
      ok: true;
      state: string;
      data: D;
      /** Stored with the flow and returned as `result` once completed. Never a secret. */
      result?: Record<string, unknown>;
      /** Writes done in the same transaction as the flow update: account, audit, outbox. */
      commit?: (tx: Tx) => Promise<void | { sessionToken?: string; sessionExpiresAt?: Date }>;
    }
  | {
      ok: false;
      code: ErrorCode;
      /** Field-level codes, shown next to the inputs. */
      fields?: Record<string, FieldCode | ErrorCode | string>;
      /** Extra message lines (already translated message keys with params). */
      details?: Array<{ key: string; params?: Record<string, string | number>; field?: string }>;
      params?: Record<string, string | number>;
      /** HTTP status: 422 by default (a wrong input); 429 when attempts are used up. */
      status?: number;
      /** Writes that happen even though the step failed (failure counters). */
      commit?: (tx: Tx) => Promise<void>;
      /** Adds one to the flow's attempt counter. */
      countAttempt?: boolean;
      /** New flow data to keep despite the failure (e.g. a retry hint). */
      data?: D;
    };

/**
 * A kind of flow. `describe` and the input schemas live in the flow's machine.ts (pure);
 * `start` and `step` in its service.ts (I/O through the context and ports).
 */
export interface FlowDefinition<D = any> {
  kind: string;
  /** Every state the flow can be in (documented in docs/flows/<kind>.md, checked by a test). */
  states: readonly string[];
  requiresSession?: boolean;
  /** Seconds a new flow lives; the institution's default when absent. */
  lifetimeSeconds?: (ctx: AppContext) => number;
  start(ctx: AppContext, req: StepRequest, query: Record<string, string>): Promise<{ state: string; data: D }>;
  describe(state: string, data: D, ctx: AppContext, locale: Locale): { fields: FieldSpec[]; actions: string[]; data: Record<string, unknown> };
  /**
   * What a state's page shows that the flow must keep to act on it later (the versions of the
   * consents it shows, recorded when the step is sent: kernel/consents.ts): the flow's data with it
   * kept, or null when the data keeps it already. The kernel asks whenever it describes the state
   * to a person or an app (a new flow, a page or a view read, a step taken or refused) and stores
   * what it returns in the flow (server-side: clients send nothing for it). Independent of the
   * language: the page in any language shows the same versions.
   */
  remember?(state: string, data: D, ctx: AppContext): D | null;
  step(ctx: AppContext, flow: Flow<D>, action: string, input: Record<string, unknown>, req: StepRequest): Promise<StepOutcome<D>>;
  /**
   * A flow that can no longer move on, whatever is sent (e.g. a registration past its link
   * lifetime): the failure every step answers, before the action is checked. Null lets the step run.
   */
  refuse?(ctx: AppContext, flow: Flow<D>, req: StepRequest): Promise<Extract<StepOutcome<D>, { ok: false }> | null>;
  /** Fields whose submitted values are never echoed back into a re-rendered form. */
  secretFields?: string[];
  /**
   * The inputs each state reads (`consents` also covers `consents.<id>`). A submission naming
   * only inputs of other states is a late copy of a step another submission already took: it
   * answers `flow.wrong_state` instead of being checked against the state it no longer meant.
   */
  stateInputs?: Record<string, readonly string[]>;
  /** Where the browser goes after completion (default: the flow's result page). */
  browserNext?: (flow: Flow<D>) => string | null;
}
