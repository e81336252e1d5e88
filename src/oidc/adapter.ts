import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { AppContext } from '../app/context.js';
import { preparedQuery } from '../db/prepared.js';

// The provider's statements, compiled once (they run several times on every protocol request).
const findBy = (column: 'id' | 'uid' | 'user_code') =>
  preparedQuery((db, model: string, value: string) =>
    db.selectFrom('oidc_payloads').select(['payload', 'expires_at', 'consumed_at']).where('model', '=', model).where(column, '=', value),
  );
const finders = { id: findBy('id'), uid: findBy('uid'), user_code: findBy('user_code') };
const upsertRow = preparedQuery(
  (
    db,
    model: string,
    id: string,
    payload: string,
    grantId: string | null,
    userCode: string | null,
    uid: string | null,
    accountId: string | null,
    clientId: string | null,
    expiresAt: string | null,
  ) => {
    const row = { payload, grant_id: grantId, user_code: userCode, uid, account_id: accountId, client_id: clientId, expires_at: expiresAt };
    return db
      .insertInto('oidc_payloads')
      .values({ model, id, consumed_at: null, ...row })
      .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row));
  },
);
// Only a row not yet consumed is consumed: of two instances redeeming one code at once, one wins.
const consumeRow = preparedQuery((db, model: string, id: string, at: string) =>
  db.updateTable('oidc_payloads').set({ consumed_at: at }).where('model', '=', model).where('id', '=', id).where('consumed_at', 'is', null),
);
/** The models issued under a grant (an interaction naming one is not issued under it). */
const TOKEN_MODELS = ['AuthorizationCode', 'AccessToken', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'];
const grantIdOf = preparedQuery((db, model: string, id: string) => db.selectFrom('oidc_payloads').select('grant_id').where('model', '=', model).where('id', '=', id));
const destroyRow = preparedQuery((db, model: string, id: string) => db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id));

/**
 * The provider's storage: every model in the one table `oidc_payloads`, keyed by (model, id), with
 * the columns it is searched by (grant, user code, uid, account, service).
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
    await upsertRow.run(
      this.db,
      this.model,
      id,
      JSON.stringify(payload),
      payload.grantId ?? null,
      payload.userCode ?? null,
      payload.uid ?? null,
      payload.accountId ?? null,
      payload.clientId ?? null,
      expiresAt,
    );
  }

  private async findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
    const row = await finders[column].first(this.db, this.model, value);
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

  /**
   * Marks a code or refresh token used. The provider checks `consumed` and then consumes, so two
   * instances (or two requests) redeeming the same code at once could both pass the check: the
   * conditional update lets only one through. The other is treated as the provider treats a code
   * used twice: its grant ends, with every token issued under it, and the request fails with
   * invalid_grant.
   */
  async consume(id: string): Promise<void> {
    if ((await consumeRow.run(this.db, this.model, id, this.ctx.clock.now().toISOString())) === 1) return;
    // Other models consumed once (a pushed authorization request) are the provider's to judge.
    if (!TOKEN_MODELS.includes(this.model)) return;
    const grantId = (await grantIdOf.first(this.db, this.model, id))?.grant_id;
    if (grantId) {
      await this.db
        .deleteFrom('oidc_payloads')
        .where((eb) => eb.or([eb.and([eb('model', 'in', TOKEN_MODELS), eb('grant_id', '=', grantId)]), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
        .execute();
    }
    throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`);
  }

  async destroy(id: string): Promise<void> {
    await destroyRow.run(this.db, this.model, id);
  }

  /**
   * Ends this model's rows issued under a grant. The provider asks each token model in turn (codes,
   * access and refresh tokens) when a grant ends; an interaction under way that names the grant
   * (an account switch resuming after a sign-out) is not one of them and stays.
   */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('grant_id', '=', grantId).execute();
  }
}
