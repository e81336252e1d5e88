import assert from 'node:assert/strict';
import type { TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/clients.js';
import { findAccountByUsername } from '../../src/accounts/repository.js';
import { transitionAccount } from '../../src/accounts/lifecycle.js';
import type { AccountStatus } from '../../src/domain/account-status.js';

/** Activates a seeded student through the JSON API (enrolment password → new password). */
export async function activate(t: TestApp, username: string, enrolment: string, password: string): Promise<void> {
  const c = apiClient(t.app);
  const f = await c.start('activation-password');
  const r = await c.submit('activation-password', f.body.id, { population: 'student', username, currentPassword: enrolment, newPassword: password, newPasswordConfirm: password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** Logs in and changes the password through the JSON API. */
export async function changePassword(t: TestApp, username: string, from: string, to: string): Promise<void> {
  const c = apiClient(t.app);
  const l = await c.start('login');
  const s = await c.submit('login', l.body.id, { username, password: from });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const me = apiClient(t.app, { bearer: s.body.result.sessionToken });
  const f = await me.start('password-change');
  const r = await me.submit('password-change', f.body.id, { currentPassword: from, newPassword: to, newPasswordConfirm: to });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** Moves an account to `to` the way the lifecycle does (audited, provisioning enqueued). */
export async function transition(t: TestApp, username: string, to: AccountStatus): Promise<void> {
  const account = await findAccountByUsername(t.ctx.db.kysely, username);
  assert.ok(account);
  await t.ctx.db.kysely.transaction().execute((tx) =>
    transitionAccount(tx, account, to, { actor: 'admin:test', reason: 'test', at: t.clock.now(), provisioning: t.ctx }),
  );
}

/** Outbox rows of provisioning, by status. */
export async function provisioningRows(t: TestApp) {
  return t.ctx.db.kysely.selectFrom('outbox').selectAll().where('channel', 'like', 'provision:%').orderBy('created_at').execute();
}
