import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { registerFlows } from '../../src/flows/index.js';
import { flowKinds, getFlowDefinition } from '../../src/flows/kernel/registry.js';

const docs = new URL('../../docs/flows/', import.meta.url);

describe('flow documentation', () => {
  it('has a state diagram for every flow that names every state', () => {
    registerFlows();
    const problems: string[] = [];
    for (const kind of flowKinds()) {
      const file = new URL(`${kind}.md`, docs);
      if (!existsSync(file)) {
        problems.push(`docs/flows/${kind}.md is missing`);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      for (const state of getFlowDefinition(kind).states) {
        if (!new RegExp(`\\b${state}\\b`).test(text)) problems.push(`${kind}: state ${state} is not in the diagram`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
