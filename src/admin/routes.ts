import type { FastifyInstance } from 'fastify';
import { consentRecordsOf } from '../accounts/consent-records.js';
import { findAccountByUsername, findPerson } from '../accounts/repository.js';
import type { AppContext } from '../app/context.js';
import { metaOf } from '../app/request-context.js';
import { audit, timeline } from '../audit/audit.js';
import { signInStateOf, unlockSignIn } from '../auth/credentials.js';
import { AppError } from '../errors/app-error.js';
import { enqueueProvisioning } from '../provisioning/enqueue.js';
import { provisioningStates } from '../provisioning/state.js';
import { targetsFor } from '../provisioning/targets.js';
import { requireAdmin } from './auth.js';
import { findAccounts } from './find-accounts.js';
import { limitParam, parseAdminQuery } from './query.js';
import { z } from 'zod';
import { text } from '../flows/kernel/input.js';

/**
 * The administration API (API.md "Administration"). Registered as an encapsulated plugin, so its
 * authentication hook never reaches public routes.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: AppContext, extra: Array<(admin: FastifyInstance) => void | Promise<void>> = []): void {
  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => requireAdmin(ctx, req));
    // Plain text is not JSON: 415, as on the rest of the API (not a 400 for a body read as a string).
    admin.removeContentTypeParser('text/plain');

    // The helpdesk finds a person by what the caller can tell (username, an address, matricola,
    // codice fiscale, AMKA, phone: exact matches; or the start of the name), each saying what it matched.
    admin.get('/api/v1/admin/accounts', async (req) => {
      const { q, limit } = parseAdminQuery(req.query, {
        q: text(200),
        limit: limitParam(100).optional(),
      });
      return { accounts: await findAccounts(ctx, q, limit ?? 20) };
    });

    // The account, its person and the newest 1000 entries of its timeline (oldest first);
    // `timelineMore` says older ones remain: `?before=<id of the first entry>` pages back.
    admin.get('/api/v1/admin/accounts/:username', async (req) => {
      const { username } = req.params as { username: string };
      const { before } = parseAdminQuery(req.query, { before: z.string().regex(/^[1-9]\d{0,15}$/).transform(Number).optional() });
      const account = await findAccountByUsername(ctx.db.kysely, username);
      if (!account) throw new AppError('account.not_found');
      const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
      const { passwordHash, ...safe } = account;
      const history = await timeline(ctx.db.kysely, account.id, account.personId, before !== undefined ? { before } : {});
      return {
        account: { ...safe, hasPassword: passwordHash !== null },
        person,
        status: account.status,
        timeline: history.entries,
        timelineMore: history.more,
        provisioning: await provisioningStates(ctx.db.kysely, account.id),
        signIn: await signInStateOf(ctx, account),
        // The person's recorded choices (registration, activation), each with the version of the text shown.
        consents: person ? await consentRecordsOf(ctx.db.kysely, person.id) : [],
      };
    });

    // Lifts the account's sign-in lock (five wrong passwords) before it ends by itself: 204.
    // Produces `account.not_found`.
    admin.delete('/api/v1/admin/accounts/:username/lock', async (req, reply) => {
      const { username } = req.params as { username: string };
      const account = await findAccountByUsername(ctx.db.kysely, username);
      if (!account) throw new AppError('account.not_found');
      await unlockSignIn(ctx, account, `admin:${req.admin?.name ?? 'unknown'}`, metaOf(req));
      return reply.status(204).send();
    });

    // Retries an account on a target (e.g. after its operation was dead-lettered): one `ensure`,
    // which brings the target to the account's current state whatever was missed.
    // Produces `account.not_found`, `provisioning.unknown_target`.
    admin.post('/api/v1/admin/accounts/:username/provisioning/:target/retry', async (req, reply) => {
      const { username, target } = req.params as { username: string; target: string };
      const account = await findAccountByUsername(ctx.db.kysely, username);
      if (!account) throw new AppError('account.not_found');
      const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
      if (!targetsFor(ctx, person?.population ?? null).some((t) => t.id === target)) throw new AppError('provisioning.unknown_target');
      const now = ctx.clock.now();
      await ctx.db.kysely.transaction().execute(async (tx) => {
        await enqueueProvisioning(tx, now, { target, op: 'ensure', accountId: account.id, ref: { username: account.username, email: account.email } });
        await audit(tx, now, { actor: `admin:${req.admin?.name ?? 'unknown'}`, action: 'provisioning.retried', accountId: account.id, personId: account.personId, details: { target } });
      });
      ctx.kickOutbox();
      return reply.code(202).send({ target, status: 'pending' });
    });

    for (const add of extra) await add(admin);
  });
}
