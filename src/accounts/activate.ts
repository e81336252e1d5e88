import type { AppContext } from '../app/context.js';
import { audit, type RequestMeta } from '../audit/audit.js';
import { preparedQuery } from '../db/prepared.js';
import type { Tx } from '../flows/kernel/types.js';
import { enqueueAccountProvisioning } from '../provisioning/enqueue.js';
import { transitionAccount } from './lifecycle.js';
import { assignAddress, mailboxOnRequest } from './mailbox.js';
import type { Locale } from '../i18n/index.js';
import { accountLocale } from './locale.js';
import type { Account, Person } from './types.js';

// The language the person activated in is remembered (accountLocale: kept as it was when they
// chose none, the institution's default when it was none either).
const setPasswordAndAddress = preparedQuery((db, id: string, hash: string, at: string, email: string | null, emailLower: string | null, locale: string) =>
  db.updateTable('accounts').set({ password_hash: hash, password_changed_at: at, email, email_lower: emailLower, locale }).where('id', '=', id),
);
const setAddress = preparedQuery((db, id: string, email: string | null, emailLower: string | null, locale: string) =>
  db.updateTable('accounts').set({ email, email_lower: emailLower, locale }).where('id', '=', id),
);

/**
 * The last step of every activation, inside the step's transaction: the chosen password (already
 * hashed) replaces whatever was there, the institutional address is assigned from the population's
 * pattern when the account has none (unless the population's mailbox comes by request), the
 * account becomes active (which enqueues its provisioning, then the new password), and
 * `account.activated` is audited. Returns the address.
 *
 * `passwordHash: null` is an activation through SPID: the account has no password of Tessera's
 * (the caller has made it federated only); the rest is the same.
 */
export async function activateAccount(
  ctx: AppContext,
  tx: Tx,
  o: { account: Account; person: Person; passwordHash: string | null; method: string; at: Date; meta: RequestMeta; language?: Locale | null | undefined; details?: Record<string, unknown> },
): Promise<string | null> {
  const { account, person, at } = o;
  const email = account.email ?? (mailboxOnRequest(person.population) ? null : await assignAddress(ctx, tx, person, account.username));
  const locale = accountLocale(ctx, o.language, account.locale);
  if (o.passwordHash !== null) await setPasswordAndAddress.run(tx, account.id, o.passwordHash, at.toISOString(), email, email?.toLowerCase() ?? null, locale);
  else if (email !== account.email || locale !== account.locale) await setAddress.run(tx, account.id, email, email?.toLowerCase() ?? null, locale);
  await transitionAccount(tx, account, 'active', { actor: `account:${account.id}`, reason: `activation.${o.method}`, at, meta: o.meta, provisioning: ctx });
  // The transition enqueued `ensure`; the password goes to the targets as its own operation.
  if (o.passwordHash !== null) await enqueueAccountProvisioning(ctx, tx, at, account.id, ['set_password']);
  await audit(tx, at, {
    actor: `account:${account.id}`,
    action: 'account.activated',
    accountId: account.id,
    personId: person.id,
    ip: o.meta.ip,
    correlationId: o.meta.correlationId,
    details: { method: o.method, email, ...o.details },
  });
  return email;
}
