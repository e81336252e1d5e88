import type { Command } from 'commander';
import { createContext } from '../app/container.js';
import { issueAdminToken } from '../admin/auth.js';

export function adminCommand(program: Command): void {
  const admin = program.command('admin').description('administration tasks');
  admin
    .command('token')
    .description('issue an administrator API token (printed once; only its hash is stored)')
    .option('--name <name>', 'who or what the token is for', 'cli')
    .action(async (opts: { name: string }) => {
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        process.stdout.write(`${await issueAdminToken(ctx, opts.name)}\n`);
      } finally {
        await ctx.db.close();
      }
    });
}
