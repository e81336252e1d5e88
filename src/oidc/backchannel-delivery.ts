import type { AppContext } from '../app/context.js';
import type { BatchHandler } from '../outbox/dispatcher.js';
import type { Client } from 'oidc-provider';
import { exponentialBackoff, type OutboxRow } from '../outbox/rows.js';
import { BACKCHANNEL_PREFIX } from './backchannel.js';
import { lazyProvider } from './lazy-provider.js';

/**
 * Delivers the notices: each a logout token signed with the provider's keys, POSTed to the
 * service's `backchannel_logout_uri`; anything but 200 or 204 is retried (after 5 s, doubling up
 * to 10 minutes, 8 tries in about 20 minutes; then the row is dead, listed for administrators). A
 * service deleted since, or no longer taking notices, has nothing to be told.
 */
export function backchannelHandler(ctx: AppContext): BatchHandler {
  return {
    prefix: BACKCHANNEL_PREFIX,
    batch: 50,
    policy: { maxAttempts: 8, backoffMs: exponentialBackoff(5_000, 600_000, 0.2) },
    async deliver(rows: OutboxRow[]) {
      const failures = new Map<string, unknown>();
      // Loaded with the first notice (an instance that never sends one never loads the provider).
      const provider = await lazyProvider(ctx);
      await Promise.all(
        rows.map(async (row) => {
          try {
            const { accountId, sid } = JSON.parse(row.payload) as { accountId: string; sid: string };
            // The provider's Client model has the method; its type declarations leave it out.
            const client = (await provider.Client.find(row.recipient)) as (Client & { backchannelLogout(sub: string, sid: string): Promise<void> }) | undefined;
            if (!client?.backchannelLogoutUri) return;
            await client.backchannelLogout(accountId, sid);
            ctx.log.info({ outboxId: row.id, clientId: row.recipient }, 'back-channel logout delivered');
          } catch (err) {
            failures.set(row.id, err);
          }
        }),
      );
      return failures;
    },
    async onDead(row, error) {
      ctx.log.warn({ outboxId: row.id, clientId: row.recipient, err: error }, 'back-channel logout gave up');
    },
  };
}
