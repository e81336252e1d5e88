import type { Command } from 'commander';
import { createContext } from '../app/container.js';
import { adminTokenName, issueAdminToken, listAdminTokens, revokeAdminToken } from '../admin/auth.js';

/**
 * `tessera admin token [--name N]` issues an administrator API token (printed once, only its hash
 * is stored); `tessera admin tokens` lists them (id, name, when issued, last used, revoked);
 * `tessera admin revoke ID` revokes one. Issuing and revoking are audited.
 */
export function adminCommand(program: Command): void {
  const admin = program.command('admin').description('administration tasks');
  admin
    .command('token')
    .description('issue an administrator API token (printed once; only its hash is stored)')
    .option('--name <name>', 'who or what the token is for (1 to 100 characters), shown in the audit log', 'cli')
    .action(async (opts: { name: string }) => {
      // A bad name is refused before anything is opened.
      adminTokenName(opts.name);
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        const { id, token } = await issueAdminToken(ctx, opts.name);
        process.stdout.write(`${token}\n`);
        process.stderr.write(`token ${id} issued; revoke it with: tessera admin revoke ${id}\n`);
      } finally {
        await ctx.db.close();
      }
    });
  admin
    .command('tokens')
    .description('list the administrator API tokens issued (never the tokens themselves)')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        const rows = await listAdminTokens(ctx);
        const out = rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at }));
        if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
        else if (out.length === 0) process.stdout.write('no tokens issued\n');
        else for (const r of out) process.stdout.write(`${r.id}  ${r.name}  issued ${r.createdAt}  last used ${r.lastUsedAt ?? 'never'}${r.revokedAt ? `  REVOKED ${r.revokedAt}` : ''}\n`);
      } finally {
        await ctx.db.close();
      }
    });
  admin
    .command('revoke')
    .description('revoke an administrator API token by its id (see `tessera admin tokens`)')
    .argument('<id>', 'the token id')
    .action(async (id: string) => {
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        if (!(await revokeAdminToken(ctx, id))) throw new Error(`no valid token has the id ${id}`);
        process.stdout.write(`token ${id} revoked\n`);
      } finally {
        await ctx.db.close();
      }
    });
}
