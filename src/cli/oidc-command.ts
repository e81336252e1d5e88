import type { Command } from 'commander';
import { createContext } from '../app/container.js';
import { rotateSigningKeys } from '../oidc/keys.js';

/** `tessera oidc rotate-keys`: new signing keys, published before they sign; the previous ones stay published for the overlap. */
export function oidcCommand(program: Command): void {
  const oidc = program.command('oidc').description('OpenID Connect provider tasks');
  oidc
    .command('rotate-keys')
    .description(
      'replace the signing keys (RS256, ES256): the new keys are published at once and sign from 3 minutes on, once every running server publishes them; the previous keys stay in the JWKS for 7 days',
    )
    .option('--immediately', 'sign with the new keys at once (a key thought compromised); for up to a minute a service may meet a key another server does not publish yet')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean; immediately?: boolean }) => {
      const ctx = await createContext({ logLevel: 'warn' });
      try {
        const r = await rotateSigningKeys(ctx, { immediately: Boolean(opts.immediately) });
        process.stdout.write(
          opts.json ? `${JSON.stringify(r)}\n` : `new keys: ${r.created.join(', ')} (sign from ${r.signsFrom})\nretiring (still published for 7 days): ${r.retired.join(', ') || '-'}\n`,
        );
      } finally {
        await ctx.db.close();
      }
    });
}
