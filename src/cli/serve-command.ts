import type { Command } from 'commander';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('start the portal (PORT, HOST, DATABASE_URL, TESSERA_CONFIG from the environment)')
    .action(async () => {
      const { serve } = await import('../main.js');
      await serve();
    });
}
