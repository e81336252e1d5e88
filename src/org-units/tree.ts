import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Offices as a parent map: enough to walk up or down the organisation. */
export type OrgTree = Map<string, string | null>;

export async function loadOrgTree(db: Kysely<Database>): Promise<OrgTree> {
  const rows = await db.selectFrom('org_units').select(['code', 'parent']).execute();
  return new Map(rows.map((r) => [r.code, r.parent]));
}

/** The office and every office above it, nearest first (stops on a loop). */
export function ancestorsOf(tree: OrgTree, code: string): string[] {
  const out: string[] = [];
  let cur: string | null | undefined = code;
  while (cur && !out.includes(cur)) {
    out.push(cur);
    cur = tree.get(cur);
  }
  return out;
}

/** True when `parent` would put `code` under itself. */
export function wouldLoop(tree: OrgTree, code: string, parent: string): boolean {
  return ancestorsOf(tree, parent).includes(code);
}

/** The offices a referent named on `codes` covers: those offices, and in `subtree` mode every office below them. */
export function coveredOffices(tree: OrgTree, codes: string[], scope: 'office' | 'subtree'): Set<string> {
  const out = new Set(codes);
  if (scope === 'office') return out;
  for (const code of tree.keys()) if (ancestorsOf(tree, code).some((a) => out.has(a))) out.add(code);
  return out;
}
