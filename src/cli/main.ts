import { Command } from 'commander';
import { ConfigError } from '../config/env.js';
import { cliCommands } from './commands.js';

/** `tessera <command>`: serve, migrate, admin, and each area's commands (import, jobs, …). */
const program = new Command()
  .name('tessera')
  .description('Tessera: account portal and identity provider for universities and schools')
  .showHelpAfterError();

for (const add of cliCommands) add(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`tessera: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
