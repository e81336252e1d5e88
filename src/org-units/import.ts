import type { Readable } from 'node:stream';
import type { AppContext } from '../app/context.js';
import { audit } from '../audit/audit.js';
import type { FieldCode } from '../errors/catalog.js';
import { readRecords, type RecordFormat } from '../formats/records.js';
import { loadOrgTree, wouldLoop } from './tree.js';
import { textProblem } from '../imports/record.js';

/** The report of an import, in the shape of the people import (API.md). */
export interface ImportReport {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rejected: Array<{ row: number; externalId: string | null; errors: Array<{ field: string; code: FieldCode }> }>;
}

const columns = ['code', 'name', 'type', 'parent'] as const;
const codePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/**
 * Imports offices (columns code, name, type, parent) from CSV or NDJSON, one row at a time.
 * A parent must be an office already known or given on an earlier row; an office can never end
 * up below itself. Rows with errors are reported and skipped; the others are created or updated
 * (each row in its own transaction). With `dryRun` nothing is written.
 * Row codes: `field.required`, `field.invalid`, `field.too_long`, `field.unknown`,
 * `field.duplicate`, `field.invalid_encoding`, `field.control_character`, `org_unit.type_invalid`,
 * `org_unit.parent_invalid`.
 */
export async function importOrgUnits(
  ctx: AppContext,
  input: Readable,
  format: RecordFormat,
  opts: { dryRun: boolean; actor: string; correlationId?: string | null },
): Promise<ImportReport> {
  const report: ImportReport = { dryRun: opts.dryRun, created: 0, updated: 0, unchanged: 0, rejected: [] };
  const types = ctx.config.mailboxes.orgUnitTypes;
  const tree = await loadOrgTree(ctx.db.kysely);
  const seen = new Set<string>();
  for await (const rec of readRecords(input, format)) {
    if (!rec.ok) {
      report.rejected.push({ row: rec.row, externalId: null, errors: [{ field: '_row', code: rec.code }] });
      continue;
    }
    const v = rec.values;
    const errors: Array<{ field: string; code: FieldCode }> = [];
    for (const k of Object.keys(v)) {
      if (!(columns as readonly string[]).includes(k)) errors.push({ field: k, code: 'field.unknown' });
      else if (rec.invalid?.includes(k)) errors.push({ field: k, code: 'field.invalid' });
      else {
        const problem = typeof v[k] === 'string' ? textProblem(v[k]) : null;
        if (problem) errors.push({ field: k, code: problem });
      }
    }
    const code = v.code ?? null;
    const existing = code && codePattern.test(code) ? await ctx.db.kysely.selectFrom('org_units').selectAll().where('code', '=', code).executeTakeFirst() : undefined;
    // A column (CSV) or key (NDJSON) left out keeps the stored office's value, as in the people
    // import; one given empty clears it (a parent) or is missing (a name, a type).
    const kept = (k: 'name' | 'type' | 'parent') => (k in v ? (v[k] ?? null) : (existing?.[k] ?? null));
    const name = kept('name');
    const type = kept('type');
    const parent = kept('parent');
    // A value of the wrong type (NDJSON) is already reported as invalid, not also as missing.
    const wrongType = (k: string) => rec.invalid?.includes(k) === true;
    if (!code) {
      if (!wrongType('code')) errors.push({ field: 'code', code: 'field.required' });
    } else if (!codePattern.test(code)) errors.push({ field: 'code', code: code.length > 40 ? 'field.too_long' : 'field.invalid' });
    else if (seen.has(code)) errors.push({ field: 'code', code: 'field.duplicate' });
    if (!name) {
      if (!wrongType('name')) errors.push({ field: 'name', code: 'field.required' });
    } else if (name.length > 200) errors.push({ field: 'name', code: 'field.too_long' });
    if (!type) {
      if (!wrongType('type')) errors.push({ field: 'type', code: 'field.required' });
    } else if (!types.includes(type)) errors.push({ field: 'type', code: 'org_unit.type_invalid' });
    if (parent && code && (parent === code || !tree.has(parent) || wouldLoop(tree, code, parent))) {
      errors.push({ field: 'parent', code: 'org_unit.parent_invalid' });
    }
    if (errors.length > 0 || !code || !name || !type) {
      report.rejected.push({ row: rec.row, externalId: code, errors });
      continue;
    }
    seen.add(code);
    tree.set(code, parent);
    if (existing && existing.name === name && existing.type === type && existing.parent === parent) {
      report.unchanged += 1;
      continue;
    }
    if (existing) report.updated += 1;
    else report.created += 1;
    if (opts.dryRun) continue;
    const now = ctx.clock.now();
    await ctx.db.kysely.transaction().execute(async (tx) => {
      if (existing) {
        await tx.updateTable('org_units').set({ name, type, parent, updated_at: now.toISOString() }).where('code', '=', code).execute();
      } else {
        await tx.insertInto('org_units').values({ code, name, type, parent, created_at: now.toISOString(), updated_at: now.toISOString() }).execute();
      }
      await audit(tx, now, {
        actor: opts.actor,
        action: existing ? 'org_unit.updated' : 'org_unit.created',
        correlationId: opts.correlationId ?? null,
        details: { code, name, type, parent },
      });
    });
  }
  return report;
}
