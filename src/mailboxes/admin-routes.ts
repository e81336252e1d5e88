import type { FastifyInstance } from 'fastify';
import { findAccountByUsername } from '../accounts/repository.js';
import type { AppContext } from '../app/context.js';
import { metaOf } from '../app/request-context.js';
import { AppError } from '../errors/app-error.js';
import { resendActivationLink } from './resend-link.js';

/** Administration of mailboxes: a new activation link for an account (credential recovery). */
export function registerMailboxAdminRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.post('/api/v1/admin/accounts/:username/mailbox-link', async (req) => {
    const { username } = req.params as { username: string };
    const account = await findAccountByUsername(ctx.db.kysely, String(username).slice(0, 200));
    if (!account) throw new AppError('account.not_found');
    return resendActivationLink(ctx, account, { actor: `admin:${req.admin?.name ?? 'unknown'}`, meta: metaOf(req) });
  });
}
