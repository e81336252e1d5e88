import type { Selectable } from 'kysely';
import type { AppContext } from '../../app/context.js';
import { randomId } from '../../app/secret.js';
import { preparedQuery } from '../../db/prepared.js';
import type { FlowTable } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { hasMessage, isLocale, translate, type Locale } from '../../i18n/index.js';
import { getFlowDefinition } from './registry.js';
import type { Flow, FlowDefinition, FlowMessage, StepOutcome, StepRequest } from './types.js';

export const COMPLETED = 'completed';

/** The JSON shape of a flow (API.md), also what the HTML renderer reads. */
export interface FlowView {
  id: string;
  kind: string;
  state: string;
  expiresAt: string;
  fields: ReturnType<FlowDefinition['describe']>['fields'];
  actions: string[];
  data: Record<string, unknown>;
  messages: FlowMessage[];
  result: Record<string, unknown> | null;
}

interface StoredData {
  /** The flow's own data. */
  d: Record<string, unknown>;
  /** Completed flows: the public result. */
  r?: Record<string, unknown> | null;
}

const insertFlow = preparedQuery(
  (db, id: string, kind: string, state: string, data: string, accountId: string | null, csrfToken: string, locale: string, expiresAt: string, createdAt: string) =>
    db.insertInto('flows').values({
      id,
      kind,
      state,
      data,
      account_id: accountId,
      csrf_token: csrfToken,
      locale,
      attempts: 0,
      expires_at: expiresAt,
      version: 0,
      created_at: createdAt,
      updated_at: createdAt,
    }),
);
const selectFlow = preparedQuery((db, id: string, kind: string) => db.selectFrom('flows').selectAll().where('id', '=', id).where('kind', '=', kind));
/** Moves a flow on, if its version is still the one read (optimistic locking). */
const claimFlow = preparedQuery((db, id: string, version: number, nextVersion: number, state: string, data: string, updatedAt: string) =>
  db.updateTable('flows').set({ state, data, version: nextVersion, updated_at: updatedAt }).where('id', '=', id).where('version', '=', version),
);
const setFlowData = preparedQuery((db, id: string, data: string) => db.updateTable('flows').set({ data }).where('id', '=', id));
/** Keeps what a flow's page showed (remember()), if the flow is still the one read: a step taken meanwhile stays as it is. */
const keepShown = preparedQuery((db, id: string, version: number, data: string) => db.updateTable('flows').set({ data }).where('id', '=', id).where('version', '=', version));

/** The data of `state` with what its page shows kept (FlowDefinition.remember), or null when it already is. */
const remembered = <D>(def: FlowDefinition<D>, state: string, data: D, ctx: AppContext): D | null => (state === COMPLETED ? null : (def.remember?.(state, data, ctx) ?? null));

function fromRow(row: Selectable<FlowTable>): Flow & { result: Record<string, unknown> | null } {
  const stored = JSON.parse(row.data) as StoredData;
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    data: stored.d,
    result: stored.r ?? null,
    accountId: row.account_id,
    csrfToken: row.csrf_token,
    locale: isLocale(row.locale) ? row.locale : 'en',
    attempts: row.attempts,
    expiresAt: new Date(row.expires_at),
    version: row.version,
    createdAt: new Date(row.created_at),
  };
}

/**
 * Creates a flow of `kind`. Flows that need a session are bound to the session's account.
 * Produces `flow.unknown_kind`, `flow.session_required`.
 */
export async function createFlow(
  ctx: AppContext,
  kind: string,
  req: StepRequest,
  opts: { csrfToken: string; query?: Record<string, string> },
): Promise<Flow & { result: Record<string, unknown> | null }> {
  const def = getFlowDefinition(kind);
  if (def.requiresSession && !req.session) throw new AppError('flow.session_required');
  const started = await def.start(ctx, req, opts.query ?? {});
  const { state } = started;
  // The first state is described as soon as the flow is made (the API's answer, the first page).
  const data = remembered(def, state, started.data, ctx) ?? started.data;
  const now = ctx.clock.now();
  const lifetime = def.lifetimeSeconds?.(ctx) ?? ctx.config.flows.lifetimeMinutes * 60;
  const row = {
    id: randomId(18),
    kind,
    state,
    data: JSON.stringify({ d: data } satisfies StoredData),
    account_id: def.requiresSession ? req.session!.accountId : null,
    csrf_token: opts.csrfToken,
    locale: req.locale,
    attempts: 0,
    expires_at: new Date(now.getTime() + lifetime * 1000).toISOString(),
    version: 0,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  };
  await insertFlow.run(ctx.db.kysely, row.id, row.kind, row.state, row.data, row.account_id, row.csrf_token, row.locale, row.expires_at, row.created_at);
  return fromRow(row);
}

/**
 * Flows belong to the channel that started them: one started in a browser is bound to that
 * browser's CSRF cookie, and the API serves it only with that cookie (its id in a browser's
 * history or on a shared screen is not enough to drive it); one started through the API never
 * matches a cookie.
 */
export const isApiFlow = (flow: Pick<Flow, 'csrfToken'>): boolean => flow.csrfToken.startsWith('api:');

/** Whether an API request may see and drive `flow` (see isApiFlow). */
export function apiMayUse(ctx: AppContext, flow: Pick<Flow, 'csrfToken'>, browserCsrf: string | null | undefined): boolean {
  return isApiFlow(flow) || (!!browserCsrf && ctx.secrets.hmacEquals('csrf', browserCsrf, flow.csrfToken));
}

/**
 * A flow that needs a session is its owner's alone, to read as to advance.
 * Produces `flow.session_required`, `auth.forbidden`.
 */
export function mayOpen(def: FlowDefinition<any>, flow: Flow, session: StepRequest['session']): void {
  if (!def.requiresSession) return;
  if (!session) throw new AppError('flow.session_required');
  if (session.accountId !== flow.accountId) throw new AppError('auth.forbidden');
}

/** A stored flow with its result (set once completed). */
export type LoadedFlow = Flow & { result: Record<string, unknown> | null };

/** Loads a flow of `kind`. Produces `flow.not_found`, `flow.expired`. */
export async function loadFlow(ctx: AppContext, kind: string, id: string): Promise<LoadedFlow> {
  getFlowDefinition(kind);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) throw new AppError('flow.not_found');
  const row = await selectFlow.first(ctx.db.kysely, id, kind);
  if (!row) throw new AppError('flow.not_found');
  const flow = fromRow(row);
  if (flow.state !== COMPLETED && flow.expiresAt <= ctx.clock.now()) throw new AppError('flow.expired');
  return flow;
}

export function viewOf(ctx: AppContext, flow: Flow & { result: Record<string, unknown> | null }, locale: Locale, messages: FlowMessage[] = []): FlowView {
  const def = getFlowDefinition(flow.kind);
  const d = flow.state === COMPLETED ? { fields: [], actions: [], data: {} } : def.describe(flow.state, flow.data, ctx, locale);
  return {
    id: flow.id,
    kind: flow.kind,
    state: flow.state,
    expiresAt: flow.expiresAt.toISOString(),
    // Hints and labels are message keys in a flow's definition; API clients read them as text in
    // the caller's language, like the page does (a text already translated comes back unchanged).
    fields: d.fields.map((f) => ({
      ...f,
      ...(f.hint ? { hint: translate(locale, f.hint) } : {}),
      ...(f.label ? { label: translate(locale, f.label) } : {}),
    })),
    actions: d.actions,
    data: d.data,
    messages,
    result: flow.state === COMPLETED ? (flow.result ?? {}) : null,
  };
}

/**
 * The view of a stored flow for a person or an app: viewOf, keeping in the flow what its page
 * shows and the flow must remember (FlowDefinition.remember), e.g. the consent versions a page
 * read again shows after the institution changed them.
 */
export async function showFlow(ctx: AppContext, flow: LoadedFlow, locale: Locale): Promise<FlowView> {
  const kept = remembered(getFlowDefinition(flow.kind), flow.state, flow.data, ctx);
  if (!kept) return viewOf(ctx, flow, locale);
  await keepShown.run(ctx.db.kysely, flow.id, flow.version, JSON.stringify({ d: kept } satisfies StoredData));
  return viewOf(ctx, { ...flow, data: kept }, locale);
}

export interface StepResult {
  ok: boolean;
  status: number;
  view: FlowView;
  error?: { code: string; message: string; fields: Record<string, string>; params?: Record<string, string | number> };
  /** Returned once, never stored: the session token of a completed login. */
  sessionToken?: string;
  sessionExpiresAt?: Date;
}

/**
 * The seconds a refused step says to wait (a lock's end, a PIN's or an email's cool-down, the
 * registrations of an hour), sent in the standard Retry-After header by the API and the pages
 * alike; null when the refusal names no wait.
 */
export function retryAfterOf(res: Pick<StepResult, 'status' | 'error'>): number | null {
  const wait = res.error?.params?.retryAfter ?? res.error?.params?.seconds;
  return res.status === 429 && typeof wait === 'number' ? wait : null;
}

/** Turns a failed outcome into translated messages. */
export function messagesOf(outcome: Extract<StepOutcome<unknown>, { ok: false }>, locale: Locale): FlowMessage[] {
  const out: FlowMessage[] = [];
  const fieldEntries = Object.entries(outcome.fields ?? {});
  // The general message is left out when a field already says the same thing.
  const generalFieldsOnly = (outcome.code === 'validation.failed' && fieldEntries.length > 0) || fieldEntries.some(([, c]) => c === outcome.code);
  if (!generalFieldsOnly) out.push({ code: outcome.code, text: translate(locale, `error.${outcome.code}`, outcome.params) });
  // A field may say a code in words of its own (`error.<code>.<field>`): a wrong current password
  // is not "a wrong username or password" on a form without a username.
  const onField = (code: string, field: string) => (hasMessage(`error.${code}.${field}`) ? `error.${code}.${field}` : `error.${code}`);
  for (const [field, code] of fieldEntries) out.push({ code, field, text: translate(locale, onField(code, field), outcome.params) });
  for (const d of outcome.details ?? []) out.push({ code: outcome.code, ...(d.field ? { field: d.field } : {}), text: translate(locale, d.key, d.params) });
  return out;
}

/**
 * True when the submitted inputs belong only to states other than `state`: a concurrent copy of
 * a step that moved the flow on between the copies (the loser reads the flow in its new state).
 */
export function meantForAnotherState(stateInputs: Record<string, readonly string[]>, state: string, input: Record<string, unknown>): boolean {
  const stateOf = (name: string): string[] => {
    const base = name.split('.')[0]!;
    return Object.entries(stateInputs)
      .filter(([, names]) => names.includes(name) || names.includes(base))
      .map(([s]) => s);
  };
  const names = Object.keys(input).filter((k) => k !== 'action' && k !== '_csrf');
  if (names.some((n) => stateOf(n).includes(state))) return false;
  return names.some((n) => stateOf(n).length > 0);
}

/**
 * Advances a flow by one step: the flow's service decides (doing slow work such as password
 * hashing outside any transaction), then the new state, the flow's writes and its outbox rows
 * are committed together. The flow row's version makes concurrent submissions of one step
 * succeed at most once; the loser gets `flow.wrong_state`.
 * Produces `flow.not_found`, `flow.expired`, `flow.wrong_state`, `flow.session_required`, `auth.forbidden`
 * and whatever the flow's step produces.
 */
export async function advanceFlow(
  ctx: AppContext,
  kind: string,
  id: string | LoadedFlow,
  action: string,
  input: Record<string, unknown>,
  req: StepRequest,
): Promise<StepResult> {
  const def = getFlowDefinition(kind);
  // The caller may pass the flow it has just loaded (to check the form's CSRF token).
  const flow = typeof id === 'string' ? await loadFlow(ctx, kind, id) : id;
  if (req.channel === 'api' && !apiMayUse(ctx, flow, req.browserCsrf)) throw new AppError('flow.not_found');
  if (flow.state === COMPLETED) throw new AppError('flow.wrong_state');
  mayOpen(def, flow, req.session);
  if (def.stateInputs && meantForAnotherState(def.stateInputs, flow.state, input)) throw new AppError('flow.wrong_state');
  // A flow that can no longer move on answers the same failure to every action (its view then
  // offers none, so checking the action first would answer request.invalid instead).
  const refused = (await def.refuse?.(ctx, flow, req)) ?? null;
  if (!refused) {
    const described = def.describe(flow.state, flow.data, ctx, req.locale);
    // A state that takes no action (waiting for someone else, e.g. a referent's decision) is not
    // one a submission can move: the step was done already.
    if (described.actions.length === 0) throw new AppError('flow.wrong_state');
    // An action this state does not offer (`resend` before any PIN was sent): the flow is not
    // in the state that takes it (API.md: 409 flow.wrong_state).
    if (!described.actions.includes(action)) throw new AppError('flow.wrong_state');
  }
  const outcome = refused ?? (await def.step(ctx, flow, action, input, req));
  const now = ctx.clock.now();
  const db = ctx.db.kysely;

  if (!outcome.ok) {
    // The state is shown again, as the configuration has it now: what its page shows is kept
    // (remember()), with the failure's own data or, without any, only if no step was taken meanwhile.
    const shown = remembered(def, flow.state, outcome.data ?? flow.data, ctx);
    const data = shown ?? outcome.data;
    if (outcome.commit || outcome.countAttempt || data) {
      await db.transaction().execute(async (tx) => {
        await outcome.commit?.(tx);
        if (outcome.countAttempt || outcome.data) {
          await tx
            .updateTable('flows')
            .set({
              attempts: flow.attempts + (outcome.countAttempt ? 1 : 0),
              ...(outcome.data ? { data: JSON.stringify({ d: data } satisfies StoredData) } : {}),
              updated_at: now.toISOString(),
            })
            .where('id', '=', flow.id)
            .execute();
        }
        if (shown && !outcome.data) await keepShown.run(tx, flow.id, flow.version, JSON.stringify({ d: shown } satisfies StoredData));
      });
    }
    const messages = messagesOf(outcome, req.locale);
    const fresh = data ? { ...flow, data } : flow;
    const status = outcome.status ?? 422;
    return {
      ok: false,
      status,
      view: viewOf(ctx, fresh, req.locale, messages),
      error: {
        code: outcome.code,
        // Worded as the flow's own message of that code: a wrong current password is "your current
        // password is not correct", not "invalid username or password" on a form without a username.
        message: messages.find((m) => m.code === outcome.code)?.text ?? translate(req.locale, `error.${outcome.code}`, outcome.params),
        // A detail naming a field (a school's codice fiscale that does not match the record) names
        // it in `fields` too, under the failure's code, as every message on a field does.
        fields: { ...Object.fromEntries((outcome.details ?? []).flatMap((d) => (d.field ? [[d.field, outcome.code]] : []))), ...outcome.fields },
        ...(outcome.params ? { params: outcome.params } : {}),
      },
    };
  }

  let extra: { sessionToken?: string; sessionExpiresAt?: Date } | void = undefined;
  // The next state is described at once (the API's answer, the next page): what it shows is kept.
  const dataOf = () => (remembered(def, outcome.state, outcome.data, ctx) ?? outcome.data) as Record<string, unknown>;
  const storedOf = (): StoredData => ({ d: dataOf(), ...(outcome.state === COMPLETED ? { r: outcome.result ?? {} } : {}) });
  let stored = storedOf();
  await db.transaction().execute(async (tx) => {
    // Claim the step first: under PostgreSQL the row lock makes a concurrent submission wait and
    // then find the version changed; under SQLite transactions are serialised anyway.
    const before = JSON.stringify(stored);
    const claimed = await claimFlow.run(tx, flow.id, flow.version, flow.version + 1, outcome.state, before, now.toISOString());
    if (claimed !== 1) throw new AppError('flow.wrong_state');
    extra = await outcome.commit?.(tx);
    // A step may fill in its result inside commit() (e.g. the address assigned there).
    stored = storedOf();
    const after = JSON.stringify(stored);
    if (after !== before) await setFlowData.run(tx, flow.id, after);
  });
  ctx.kickOutbox();
  const next = { ...flow, state: outcome.state, data: stored.d, result: stored.r ?? null, version: flow.version + 1 };
  const result: StepResult = { ok: true, status: 200, view: viewOf(ctx, next, req.locale) };
  const e = extra as { sessionToken?: string; sessionExpiresAt?: Date } | void;
  if (e?.sessionToken) {
    result.sessionToken = e.sessionToken;
    if (e.sessionExpiresAt) result.sessionExpiresAt = e.sessionExpiresAt;
    if (result.view.result) result.view.result = { ...result.view.result, sessionToken: e.sessionToken };
  }
  return result;
}
