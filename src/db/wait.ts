/** Errors that say the database is not answering yet (starting, restarting, unreachable for now). */
const unreachable = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03', '53300']);

export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && unreachable.has(code);
}

/** PostgreSQL ending or refusing connections (a restart, a failover, the server shutting down). */
const lost = new Set(['57P01', '57P02', '08000', '08001', '08003', '08004', '08006']);

/**
 * The database cannot serve a request now, though nothing is wrong with the request: it does not
 * answer, it ended the connection the request was using, or (SQLite) another writer held the file
 * past the wait. What the person sees is "try again in a moment", not an unexpected error.
 */
export function isDatabaseUnavailable(err: unknown): 'unreachable' | 'busy' | null {
  if (isUnreachable(err)) return 'unreachable';
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && lost.has(e.code)) return 'unreachable';
  if (e?.code === 'SQLITE_BUSY') return 'busy';
  // The PostgreSQL client's own: a connection that ended, or none obtained in time.
  if (typeof e?.message === 'string' && /^(Connection terminated|timeout exceeded when trying to connect)/.test(e.message)) return 'unreachable';
  return null;
}

/**
 * Runs `attempt` until it succeeds, retrying while the database is unreachable, for at most
 * `waitMs` (a deployment often starts Tessera and PostgreSQL together, or PostgreSQL restarts):
 * 1 s, 2 s, 4 s… apart, at most 10 s, telling `onWait` each time. Any other error, or the
 * database still unreachable at the end, is thrown.
 */
export async function whenDatabaseAnswers<T>(
  attempt: () => Promise<T>,
  opts: { waitMs: number; onWait: (err: unknown, nextInMs: number) => void; sleep?: (ms: number) => Promise<void>; now?: () => number },
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.waitMs;
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      return await attempt();
    } catch (err) {
      const left = deadline - now();
      if (!isUnreachable(err) || left <= 0) throw err;
      const next = Math.min(delay, left);
      opts.onWait(err, next);
      await sleep(next);
    }
  }
}
