import type { AppContext } from '../app/context.js';
import { isAddressTaken, isUsernameTaken } from './repository.js';
import { firstFree, renderPattern } from '../domain/address-pattern.js';
import type { Person } from './types.js';
import type { Tx } from '../flows/kernel/types.js';
import type { PopulationId } from '../config/institution-schema.js';
import { lockKeys } from '../db/lock-key.js';

/**
 * Populations whose mailbox comes by request (PRODUCT §9, `miur`): staff through their office's IT
 * referent, school staff once eligible. Their activation opens no mailbox.
 */
export const mailboxOnRequest = (population: string): population is 'staff' | 'school_staff' => population === 'staff' || population === 'school_staff';

/** The lock key of a name about to be given out (an address, a username): see lockKeys. */
export const nameLock = (name: string) => `name:${name.toLowerCase()}`;

/**
 * The institutional address for a person, from the population's pattern, with collisions resolved
 * by a numeric suffix. Call inside the transaction that stores it (a unique index backs it up).
 * `username` is the person's account's: when the pattern gives the same name as the username was
 * made of, the address takes the username's own suffix. Returns null when the population has no
 * mailbox.
 */
export async function assignAddress(ctx: AppContext, tx: Tx, person: Person, username: string | null): Promise<string | null> {
  const pop = ctx.config.populations[person.population as PopulationId];
  if (!pop?.mailbox) return null;
  const base = renderPattern(pop.mailbox, {
    externalId: person.externalId,
    givenName: person.givenName,
    familyName: person.familyName,
    domain: ctx.config.institution.domain,
    // Names that fold to nothing: the address is named after the account, like the username
    // (when the username is fit for an address; otherwise the external id, folded).
    fallback: username && /^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/i.test(username) ? username.toLowerCase() : undefined,
  });
  const at = base.indexOf('@');
  const local = (at === -1 ? base : base.slice(0, at)).toLowerCase();
  const domain = at === -1 ? '' : base.slice(at);
  // Two Mario Rossi hold mario.rossi and mario.rossi2; suffixes counted for the address alone
  // would give mario.rossi@ to whichever of them asks first. Each takes the address of their own
  // username while it is free.
  const user = username?.toLowerCase() ?? '';
  const own = user.startsWith(local) && /^\d*$/.test(user.slice(local.length)) ? `${user}${domain}` : null;
  await lockKeys(tx, ctx.db.dialect, own ? [nameLock(base), nameLock(own)] : [nameLock(base)]);
  if (own && !(await isAddressTaken(tx, own.toLowerCase()))) return own;
  return firstFree(base, (c) => isAddressTaken(tx, c));
}

/**
 * The username for a new account of `person`, from the population's pattern (or `pattern`), collisions suffixed.
 * `reserved` holds lowercased usernames already given out in the same transaction but not yet
 * stored (the importer inserts a batch of accounts at once).
 */
export async function assignUsername(
  ctx: AppContext,
  tx: Tx,
  person: Pick<Person, 'population' | 'externalId' | 'givenName' | 'familyName'>,
  reserved?: ReadonlySet<string>,
  pattern = ctx.config.populations[person.population as PopulationId]?.username ?? '{externalId}',
): Promise<string> {
  const base = renderPattern(pattern, {
    externalId: person.externalId,
    givenName: person.givenName,
    familyName: person.familyName,
    domain: ctx.config.institution.domain,
  });
  await lockKeys(tx, ctx.db.dialect, [nameLock(base)]);
  return firstFree(base, async (c) => (reserved?.has(c) ?? false) || (await isUsernameTaken(tx, c)));
}
