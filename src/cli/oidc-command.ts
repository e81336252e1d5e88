import type { Command } from 'commander';
import { createContext } from '../app/container.js';
import { rotateSigningKeys } from '../oidc/keys.js';

/** `tessera oidc rotate-keys`: new signing keys; the previous ones stay published for the overlap. */
export function oidcCommand(program: Command): void {
  const oidc = program.command('oidc').description('OpenID Connect provider tasks');
  oidc
    .command('rotate-keys')
    .description('replace the signing keys (RS256, ES256); the previous keys stay in the JWKS for 7 days; running servers switch within a minute')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        const r = await rotateSigningKeys(ctx);
        process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `new keys: ${r.created.join(', ')}\nretired (still published): ${r.retired.join(', ') || '-'}\n`);
      } finally {
        await ctx.db.close();
      }
    });
}
