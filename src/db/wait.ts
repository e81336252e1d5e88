/** Errors that say the database is not answering yet (starting, restarting, unreachable for now). */
const unreachable = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P03', '53300']);

export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && unreachable.has(code);
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
