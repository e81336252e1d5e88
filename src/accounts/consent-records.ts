import type { Kysely } from 'kysely';
import { randomId } from '../app/secret.js';
import type { Database } from '../db/schema.js';
import type { Locale } from '../i18n/index.js';

/**
 * Records a person's choices (GDPR art. 7(1): the institution can show what was accepted): one row
 * per consent offered, with the version of the text shown, the choice, the page's language and the
 * time, inside the caller's transaction. Returns the choices as the audit log states them.
 */
export async function recordConsents(
  tx: Kysely<Database>,
  who: { personId: string; accountId: string | null },
  consents: ReadonlyArray<{ id: string; version: string }>,
  choices: Record<string, boolean>,
  at: Date,
  locale: Locale,
): Promise<Record<string, { version: string; granted: boolean }>> {
  if (consents.length > 0) {
    await tx
      .insertInto('consent_records')
      .values(
        consents.map((c) => ({
          id: randomId(),
          person_id: who.personId,
          account_id: who.accountId,
          consent_id: c.id,
          version: c.version,
          granted: choices[c.id] ? 1 : 0,
          locale,
          at: at.toISOString(),
        })),
      )
      .execute();
  }
  return Object.fromEntries(consents.map((c) => [c.id, { version: c.version, granted: choices[c.id] === true }]));
}

/** A recorded choice, as the administration API shows it. */
export interface ConsentRecord {
  consentId: string;
  version: string;
  granted: boolean;
  locale: string;
  at: string;
}

/** The choices recorded for a person, oldest first. */
export async function consentRecordsOf(db: Kysely<Database>, personId: string): Promise<ConsentRecord[]> {
  const rows = await db
    .selectFrom('consent_records')
    .select(['consent_id', 'version', 'granted', 'locale', 'at'])
    .where('person_id', '=', personId)
    .orderBy('at')
    .orderBy('consent_id')
    .execute();
  return rows.map((r) => ({ consentId: r.consent_id, version: r.version, granted: r.granted === 1, locale: r.locale, at: r.at }));
}
