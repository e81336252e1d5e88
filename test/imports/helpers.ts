import { createHash, randomBytes } from 'node:crypto';
import type { TestApp } from '../helpers/app.js';
import { adminHeaders } from '../helpers/clients.js';

/** Posts an import body to the admin API. */
export async function postImport(t: TestApp, body: string, query: string, type = 'text/csv', headers: Record<string, string> = adminHeaders) {
  const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/imports?${query}`, payload: body, headers: { ...headers, 'content-type': type } });
  return { status: r.statusCode, body: r.json() as any };
}

/** CSV text from a header and rows of cells, quoted where a cell needs it (argon2 hashes hold commas). */
const cell = (c: string) => (/[",\n;]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
export const csv = (header: string[], ...rows: string[][]) => [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';

export function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

export async function counts(t: TestApp) {
  const k = t.ctx.db.kysely;
  const one = async (table: 'persons' | 'accounts' | 'audit_log') => Number((await k.selectFrom(table).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { persons: await one('persons'), accounts: await one('accounts'), audit: await one('audit_log') };
}
