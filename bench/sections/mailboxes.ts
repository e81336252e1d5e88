import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createContext } from '../../src/app/container.js';
import type { AppContext } from '../../src/app/context.js';
import { readEnv } from '../../src/config/env.js';
import { loadInstitution } from '../../src/config/load-institution.js';
import { connect } from '../../src/db/connect.js';
import { nameKeyColumns } from '../../src/domain/name-key.js';
import { listPendingRequests, requireReferent } from '../../src/mailboxes/referent-service.js';
import { importOrgUnits } from '../../src/org-units/import.js';
import { argon2Bound, cpuMs, type BenchSection, type Figure } from '../lib.js';

const OFFICES = 5_000;
const REQUESTS = 2_000;

async function context(): Promise<AppContext> {
  const env = readEnv({ NODE_ENV: 'test', TESSERA_SECRET: 'bench-secret-bench-secret-bench-secret-01', LOG_LEVEL: 'silent' });
  const config = structuredClone(loadInstitution(undefined).config);
  return createContext({ env, config, db: connect('sqlite::memory:'), logLevel: 'silent' });
}

function officesCsv(): string {
  const rows = ['code,name,type,parent', 'ROOT,Direzione generale,Direzione,'];
  for (let i = 1; i < OFFICES; i++) rows.push(`U${i},Ufficio ${i},Dipartimento,${i < 100 ? 'ROOT' : `U${i % 99 + 1}`}`);
  return rows.join('\n');
}

/** Seeds staff with pending requests spread over 100 offices, and one referent of office U1. */
async function seedRequests(ctx: AppContext): Promise<string> {
  const now = new Date().toISOString();
  const db = ctx.db.kysely;
  const refId = randomUUID();
  await db.insertInto('accounts').values({ id: refId, person_id: null, username: 'ref', username_lower: 'ref', email: null, email_lower: null, status: 'active', password_hash: null, password_changed_at: null, federated_only: 0, roles: '["referent"]', created_at: now, updated_at: now, version: 0 }).execute();
  await db.insertInto('org_unit_referents').values({ org_unit: 'U1', account_id: refId, created_at: now }).execute();
  for (let i = 0; i < REQUESTS; i++) {
    const personId = randomUUID();
    const accountId = randomUUID();
    const office = `U${(i % 100) + 1}`;
    await db.insertInto('persons').values({ id: personId, population: 'staff', external_id: `S${i}`, given_name: 'Nome', family_name: `Cognome${i}`, ...nameKeyColumns('Nome', `Cognome${i}`), birth_date: null, tax_code: null, amka: null, insurance_country: null, insurance_number: null, mobile: null, personal_email: null, personal_email_lower: null, registrar_status: 'active', org_unit: office, role: null, contract_type: null, entitlements: '[]', extra: '{}', source_hash: 'b', created_at: now, updated_at: now }).execute();
    await db.insertInto('accounts').values({ id: accountId, person_id: personId, username: `s${i}`, username_lower: `s${i}`, email: null, email_lower: null, status: 'active', password_hash: null, password_changed_at: null, federated_only: 0, roles: '[]', created_at: now, updated_at: now, version: 0 }).execute();
    await db.insertInto('mailbox_requests').values({ id: randomUUID(), account_id: accountId, person_id: personId, org_unit: office, flow_id: null, status: 'pending', address: null, comment: null, decided_by: null, locale: 'it', created_at: now, decided_at: null, reminded_at: null, expires_at: new Date(Date.now() + 86_400_000).toISOString() }).execute();
  }
  return refId;
}

/** Office import throughput and the referent's list, in CPU time against one argon2id hash. */
export const mailboxesSection: BenchSection = {
  name: 'mailboxes',
  async run(): Promise<Figure[]> {
    const bound = await argon2Bound();
    const ctx = await context();
    const csv = officesCsv();
    const importMs = await cpuMs(() => importOrgUnits(ctx, Readable.from([csv]), 'csv', { dryRun: false, actor: 'bench' }));
    const dryMs = await cpuMs(() => importOrgUnits(ctx, Readable.from([csv]), 'csv', { dryRun: true, actor: 'bench' }));
    const refId = await seedRequests(ctx);
    const referent = await requireReferent(ctx, { accountId: refId });
    ctx.config.mailboxes.referentScope = 'office';
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) samples.push(await cpuMs(() => listPendingRequests(ctx, referent)));
    ctx.config.mailboxes.referentScope = 'subtree';
    const subtree: number[] = [];
    for (let i = 0; i < 15; i++) subtree.push(await cpuMs(() => listPendingRequests(ctx, referent)));
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    await ctx.db.close();
    return [
      { metric: 'argon2id hash (the unit below)', value: bound, unit: 'CPU ms' },
      { metric: `office import, new offices (${OFFICES} rows)`, value: (importMs / OFFICES) * 1000, unit: 'CPU ms/1k' },
      { metric: 'office import, unchanged offices (dry run)', value: (dryMs / OFFICES) * 1000, unit: 'CPU ms/1k' },
      { metric: `office import per 1,000 rows ÷ argon2id hash`, value: importMs / OFFICES * 1000 / bound, unit: 'ratio', goal: '≤ 20' },
      { metric: `referent list (1 office of ${REQUESTS} requests) ÷ argon2id`, value: median(samples) / bound, unit: 'ratio', goal: '≤ 1' },
      { metric: `referent list, subtree scope (${OFFICES} offices) ÷ argon2id`, value: median(subtree) / bound, unit: 'ratio', goal: '≤ 2' },
    ];
  },
};
