import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/app/context.js';
import { adminHeaders, apiClient, runApiFlow } from '../helpers/clients.js';

/** Signs in through the API and returns the session token. */
export async function sessionToken(app: FastifyInstance, username: string, password: string): Promise<string> {
  const done = await runApiFlow(app, 'login', [{ username, password }]);
  return done.result.sessionToken as string;
}

export interface OutboxMail {
  purpose: string;
  recipient: string;
  subject: string | null;
  text: string;
  html: string | null;
  lang: string | null;
  sensitive: boolean;
}

/** The messages in the outbox, oldest first, optionally of one purpose. */
export async function outbox(ctx: AppContext, purpose?: string): Promise<OutboxMail[]> {
  let q = ctx.db.kysely.selectFrom('outbox').selectAll().orderBy('created_at').orderBy('id');
  if (purpose) q = q.where('purpose', '=', purpose);
  const rows = await q.execute();
  return rows.map((r) => {
    const p = JSON.parse(r.payload) as { subject: string | null; text: string; html?: string; lang?: string; sensitive: boolean };
    return { purpose: r.purpose, recipient: r.recipient, subject: p.subject, text: p.text, html: p.html ?? null, lang: p.lang ?? null, sensitive: p.sensitive };
  });
}

/** Imports offices through the admin API (CSV). */
export async function importOffices(app: FastifyInstance, csv: string, query = '') {
  const r = await app.inject({ method: 'POST', url: `/api/v1/admin/org-units${query}`, payload: csv, headers: { ...adminHeaders, 'content-type': 'text/csv' } });
  return { status: r.statusCode, body: r.json() as any };
}

export async function nameReferent(app: FastifyInstance, code: string, username: string) {
  return apiClient(app).request('PUT', `/api/v1/admin/org-units/${encodeURIComponent(code)}/referents/${encodeURIComponent(username)}`, undefined, adminHeaders);
}

export async function timelineActions(app: FastifyInstance, username: string): Promise<string[]> {
  const r = await apiClient(app).request('GET', `/api/v1/admin/accounts/${encodeURIComponent(username)}`, undefined, adminHeaders);
  return r.body.timeline.map((e: { action: string }) => e.action);
}

export const OFFICES = [
  'code,name,type,parent',
  'DGSIS,Direzione generale per i sistemi informativi,Direzione,',
  'DIP-ISTR,Dipartimento per il sistema educativo,Dipartimento,DGSIS',
  'AT-MI,Ambito territoriale di Milano,Ambito territoriale,',
].join('\n');
