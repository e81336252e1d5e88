import { calendarDate } from '../i18n/dates.js';

/**
 * When a school's institutional mailbox takes effect: on 1 September of its school year (Italian
 * time), or at once when that day has already come. Pure.
 */

const ROME = 'Europe/Rome';

/**
 * The calendar date (YYYY-MM-DD) of an instant in Italy. Only for the Italian school year, whose
 * days are Italy's whatever the institution's time zone; a date shown to people as the
 * institution's is computed in its configured `timeZone` instead.
 */
export function romeDate(at: Date): string {
  return calendarDate(at, ROME);
}

/** The first year of a school year written `2026/27` or `2026/2027`; null when it is not one. */
export function schoolYearStart(schoolYear: string): number | null {
  const m = /^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$/.exec(schoolYear.trim());
  if (!m) return null;
  const first = Number(m[1]);
  const second = m[2]!.length === 2 ? Number(m[2]) : Number(m[2]) % 100;
  return (first + 1) % 100 === second ? first : null;
}

/**
 * The date (YYYY-MM-DD, Italian calendar) from which a school of `schoolYear`, imported at
 * `importedAt`, has its mailbox: 1 September of the school year, or the import day when later.
 * Null when the school year is not valid.
 */
export function mailboxEffectiveDate(schoolYear: string, importedAt: Date): string | null {
  const year = schoolYearStart(schoolYear);
  if (year === null) return null;
  const september = `${year}-09-01`;
  const imported = romeDate(importedAt);
  return imported > september ? imported : september;
}

/** True when the mailbox of a school of `schoolYear` imported at `importedAt` is due at `now`. */
export function mailboxDue(schoolYear: string, importedAt: Date, now: Date): boolean {
  const from = mailboxEffectiveDate(schoolYear, importedAt);
  return from !== null && romeDate(now) >= from;
}
