import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AppContext } from '../app/context.js';
import { importPeople } from './pipeline.js';
import { readCsv } from './readers.js';

/** The demo institution's people, imported through the same pipeline as a registrar's file. */
export const demoPeoplePath = fileURLToPath(new URL('../../config/demo-people.csv', import.meta.url));

/** The demo student whose enrolment password (bcrypt in the file) is told at start, to try activation. */
export const demoStudent = { externalId: '20260001', enrolmentPassword: 'Tessera-2026' } as const;

/**
 * Start hook: with the built-in demo institution (and `demo.seed`), fills an empty database with a
 * few students, staff, school staff and a school, then tells how to try activation at once. The
 * enrolment password is logged on purpose: it belongs to made-up demo data and is the one thing a
 * newcomer needs; it is never written for a real institution. A later start on the same data
 * imports nothing and tells it again for as long as the demo student is not activated.
 */
export async function seedDemoPeople(ctx: AppContext, path = demoPeoplePath): Promise<void> {
  if (!ctx.isDemo || !ctx.config.demo.seed) return;
  const any = await ctx.db.kysely.selectFrom('persons').select('id').limit(1).executeTakeFirst();
  if (!any) {
    const report = await importPeople(ctx, readCsv(createReadStream(path)), { dryRun: false, who: 'demo' });
    if (report.rejected.length > 0) ctx.log.warn({ rejected: report.rejected }, 'demo data: some rows were rejected');
    ctx.log.info({ created: report.created }, 'demo data imported');
  }
  const account = await ctx.db.kysely
    .selectFrom('accounts')
    .innerJoin('persons', 'persons.id', 'accounts.person_id')
    .select('accounts.username')
    .where('persons.population', '=', 'student')
    .where('persons.external_id', '=', demoStudent.externalId)
    .where('accounts.status', '=', 'pending_activation')
    .executeTakeFirst();
  if (account) {
    ctx.log.info(
      { username: account.username, enrolmentPassword: demoStudent.enrolmentPassword, activation: `${ctx.env.PUBLIC_URL}/flows/activation-password` },
      `Demo: activate student ${account.username} with the enrolment password ${demoStudent.enrolmentPassword}`,
    );
  }
}
