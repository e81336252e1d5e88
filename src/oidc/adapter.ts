import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { AppContext } from '../app/context.js';

/**
 * The provider's storage: every model in the one table `oidc_payloads`, keyed by (model, id).
 * Nothing is kept in process memory, so any instance can continue what another started.
 * Expiry follows the application clock (tests move it); expired rows are never returned and are
 * swept by `sweepOidcPayloads`. Clients are not stored here: see clients.ts.
 */
export class KyselyAdapter implements Adapter {
  constructor(
    private readonly ctx: AppContext,
    private readonly model: string,
  ) {}

  private get db() {
    return this.ctx.db.kysely;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(this.ctx.clock.now().getTime() + expiresIn * 1000).toISOString() : null;
    const row = {
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      user_code: payload.userCode ?? null,
      uid: payload.uid ?? null,
      account_id: payload.accountId ?? null,
      expires_at: expiresAt,
    };
    await this.db
      .insertInto('oidc_payloads')
      .values({ model: this.model, id, consumed_at: null, ...row })
      .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row))
      .execute();
  }

  private async findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'expires_at', 'consumed_at'])
      .where('model', '=', this.model)
      .where(column, '=', value)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at && row.expires_at <= this.ctx.clock.now().toISOString()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    // The provider learns that a code or token was already used from `consumed`.
    if (row.consumed_at) payload.consumed = Math.floor(Date.parse(row.consumed_at) / 1000);
    return payload;
  }

  find(id: string) {
    return this.findWhere('id', id);
  }

  findByUid(uid: string) {
    return this.findWhere('uid', uid);
  }

  findByUserCode(userCode: string) {
    return this.findWhere('user_code', userCode);
  }

  async consume(id: string): Promise<void> {
    await this.db
      .updateTable('oidc_payloads')
      .set({ consumed_at: this.ctx.clock.now().toISOString() })
      .where('model', '=', this.model)
      .where('id', '=', id)
      .execute();
  }

  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', id).execute();
  }

  /** A grant ends with everything issued under it (codes, tokens): reused codes trigger this. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
  }
}

/** Deletes expired rows; returns how many. Run on a timer by `serve` (start-hooks). */
export async function sweepOidcPayloads(ctx: AppContext): Promise<number> {
  const res = await ctx.db.kysely
    .deleteFrom('oidc_payloads')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', ctx.clock.now().toISOString())
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
