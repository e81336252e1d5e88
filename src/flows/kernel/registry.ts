import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import type { FlowDefinition } from './types.js';

/**
 * The kind and id in a flow's address (`/flows/{kind}/{id}`, `/api/v1/flows/{kind}/{id}`), read
 * as they come: a kind no flow has is `flow.unknown_kind` (getFlowDefinition) and an id no flow
 * can have is `flow.not_found` (loadFlow), whatever its length or letters, never a server error.
 */
export const flowParams = z.object({ kind: z.string(), id: z.string().optional() });

const definitions = new Map<string, FlowDefinition>();

/** Registers a kind of flow; called once per flow by flows/index.ts. */
export function registerFlow(def: FlowDefinition): void {
  if (definitions.has(def.kind)) throw new Error(`flow ${def.kind} registered twice`);
  definitions.set(def.kind, def);
}

/** Produces `flow.unknown_kind`. */
export function getFlowDefinition(kind: string): FlowDefinition {
  const def = definitions.get(kind);
  if (!def) throw new AppError('flow.unknown_kind');
  return def;
}

export const flowKinds = (): string[] => [...definitions.keys()];
