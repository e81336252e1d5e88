import { purgeAccounts } from '../accounts/purge.js';
import type { JobDefinition } from './types.js';

/**
 * expire-unverified: registrations past their link lifetime are removed (the account purged,
 * its username and address free again). Each batch is one transaction, so a crash loses nothing
 * and a rerun continues where it stopped.
 */
export const expireUnverified: JobDefinition = {
  name: 'expire-unverified',
  description: 'remove registrations whose activation link expired',
  async run(ctx, run) {
    const db = ctx.db.kysely;
    const now = ctx.clock.now().toISOString();
    const size = ctx.config.lifecycle.batchSize;
    // Keyset in the order of the (verified_at, expires_at) index, so no batch sorts the backlog.
    let after = { at: '', id: '' };
    for (;;) {
      const rows = await db
        .selectFrom('registrations')
        .innerJoin('accounts', 'accounts.id', 'registrations.account_id')
        .select(['registrations.account_id as id', 'registrations.expires_at as at', 'accounts.username as username'])
        .where('registrations.verified_at', 'is', null)
        .where('registrations.expires_at', '<=', now)
        .where('accounts.status', '=', 'pending_verification')
        .where((eb) => eb.or([eb('registrations.expires_at', '>', after.at), eb.and([eb('registrations.expires_at', '=', after.at), eb('registrations.account_id', '>', after.id)])]))
        .orderBy('registrations.expires_at')
        .orderBy('registrations.account_id')
        .limit(size)
        .execute();
      if (rows.length === 0) break;
      after = { at: rows.at(-1)!.at, id: rows.at(-1)!.id };
      if (run.dryRun) {
        for (const r of rows) run.record('purged', r.username);
      } else {
        const ids = rows.map((r) => r.id);
        const done = await db.transaction().execute((tx) => purgeAccounts(tx, ctx.db.dialect, ids, { actor: 'job:expire-unverified', reason: 'registration.link_expired', at: ctx.clock.now(), provisioning: ctx }));
        for (const p of done) run.record('purged', p.username);
      }
      await run.checkpoint();
    }
  },
};
