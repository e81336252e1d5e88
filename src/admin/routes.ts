import type { FastifyInstance } from 'fastify';
import { findAccountByUsername, findPerson } from '../accounts/repository.js';
import type { AppContext } from '../app/context.js';
import { timeline } from '../audit/audit.js';
import { AppError } from '../errors/app-error.js';
import { provisioningStates } from '../provisioning/state.js';
import { requireAdmin } from './auth.js';

/**
 * The administration API (API.md "Administration"). Registered as an encapsulated plugin, so its
 * authentication hook never reaches public routes.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: AppContext, extra: Array<(admin: FastifyInstance) => void | Promise<void>> = []): void {
  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => requireAdmin(ctx, req));

    admin.get('/api/v1/admin/accounts/:username', async (req) => {
      const { username } = req.params as { username: string };
      const account = await findAccountByUsername(ctx.db.kysely, username);
      if (!account) throw new AppError('account.not_found');
      const person = account.personId ? await findPerson(ctx.db.kysely, account.personId) : null;
      const { passwordHash, ...safe } = account;
      return {
        account: { ...safe, hasPassword: passwordHash !== null },
        person,
        status: account.status,
        timeline: await timeline(ctx.db.kysely, account.id, account.personId),
        provisioning: await provisioningStates(ctx.db.kysely, account.id),
      };
    });

    for (const add of extra) await add(admin);
  });
}
