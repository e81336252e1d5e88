import type { FastifyInstance } from 'fastify';
import type { AppContext } from './app/context.js';
import { createContext } from './app/container.js';
import { buildServer } from './app/server.js';
import { startHooks } from './app/start-hooks.js';
import { pino } from 'pino';
import { productionWarnings, readEnv } from './config/env.js';
import { configWarnings } from './config/load-institution.js';
import { connect } from './db/connect.js';
import { whenDatabaseAnswers } from './db/wait.js';
import { loggerOptions } from './observability/logger.js';

/**
 * Starts the portal: configuration → context (database migrated) → HTTP server, then the
 * background work of each area (outbox dispatcher, scheduler). Stops cleanly on SIGINT/SIGTERM.
 */
export async function serve(): Promise<{ app: FastifyInstance; ctx: AppContext }> {
  const env = readEnv();
  const startLog = pino({ ...loggerOptions(env.LOG_LEVEL), base: { service: 'tessera' } });
  for (const warning of productionWarnings(env)) startLog.warn(warning);
  // PostgreSQL may still be starting (or restarting): wait for it up to a minute, saying so.
  const ctx = await whenDatabaseAnswers(
    async () => {
      const db = connect(env.DATABASE_URL);
      try {
        return await createContext({ env, db });
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
    },
    { waitMs: 60_000, onWait: (err, next) => startLog.warn({ err, retryInMs: next }, 'the database does not answer yet; trying again') },
  );
  for (const warning of configWarnings(ctx.config)) ctx.log.warn(warning);
  const app = await buildServer(ctx);
  const stops: Array<() => Promise<void> | void> = [];
  for (const hook of startHooks) {
    const stop = await hook(ctx);
    if (stop) stops.push(stop);
  }
  await app.listen({ port: ctx.env.PORT, host: ctx.env.HOST });
  ctx.log.info(
    { url: ctx.env.PUBLIC_URL, database: ctx.db.dialect, config: ctx.isDemo ? 'built-in demo' : ctx.configPath },
    `Tessera is serving ${ctx.env.PUBLIC_URL}`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info({ signal }, 'stopping');
    for (const s of stops) await s();
    await app.close();
    await ctx.db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return { app, ctx };
}
