import type { Command } from 'commander';
import { adminCommand } from './admin-command.js';
import { importCommand } from './import-command.js';
import { jobsCommand } from './jobs-command.js';
import { migrateCommand } from './migrate-command.js';
import { oidcCommand } from './oidc-command.js';
import { serveCommand } from './serve-command.js';

/** Every CLI command. An area adds its command here. */
export const cliCommands: Array<(program: Command) => void> = [serveCommand, migrateCommand, adminCommand, importCommand, oidcCommand, jobsCommand];
