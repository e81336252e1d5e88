import type { VNode } from 'preact';
import type { AppContext } from '../app/context.js';
import type { FlowView } from '../flows/kernel/service.js';

type T = (k: string, p?: Record<string, string | number>) => string;

/**
 * What a kind of flow shows beyond the generic form: text above the form for a given state, and
 * the page of a completed flow. Flows register theirs in views/flow-view-registry.tsx.
 */
export interface FlowPageHooks {
  /** Content shown above the form of the current state (e.g. the username to note down). */
  intro?: (view: FlowView, t: T, ctx: AppContext) => VNode | null;
  /** Content shown below the form of the current state (e.g. where to go when a password is forgotten). */
  outro?: (view: FlowView, t: T, ctx: AppContext) => VNode | null;
  /** The page body of a completed flow. */
  done?: (view: FlowView, t: T, ctx: AppContext) => VNode;
  /** The title of a completed flow, as a message key, when it depends on how it ended (default `<kind>.doneTitle`). */
  doneTitle?: (view: FlowView) => string;
  /** The submit button's label for a state, as a message key. */
  submitLabel?: (view: FlowView) => string | undefined;
}

const hooks = new Map<string, FlowPageHooks>();
export function registerFlowView(kind: string, h: FlowPageHooks): void {
  hooks.set(kind, h);
}
export const flowViewHooks = (kind: string): FlowPageHooks => hooks.get(kind) ?? {};
