import type { Locale } from './define.js';

/**
 * Dates in messages, written as people of each language write them in a letter: "19 marzo 2026",
 * "19 March 2026", "19 Μαρτίου 2026" (never 2026-03-19). The first of a month is an ordinal in
 * Italian and Greek ("1° gennaio", "1η Ιανουαρίου"), and the words before a date depend on the day
 * ("il 19 marzo" but "l’8 marzo"; "στις 19 Μαρτίου" but "την 1η Ιανουαρίου"): `datePhrase` gives
 * the whole complement, so that the messages never get it wrong.
 */

const tags: Record<Locale, string> = { it: 'it-IT', en: 'en-GB', el: 'el-GR' };

// Building a DateTimeFormat costs far more than formatting with one: one per use, made on first use.
const formats = new Map<string, Intl.DateTimeFormat>();
function format(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = formats.get(key);
  if (!f) {
    f = make();
    formats.set(key, f);
  }
  return f;
}

/** The calendar date (YYYY-MM-DD) of an instant in `timeZone`. */
export function calendarDate(at: Date, timeZone: string): string {
  const parts = format(`ymd ${timeZone}`, () => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/**
 * The instant a calendar date (YYYY-MM-DD) begins in `timeZone`: its local midnight, e.g.
 * 2027-01-01 in Europe/Rome is 2026-12-31T23:00:00Z.
 */
export function startOfDate(ymd: string, timeZone: string): Date {
  const midnightUtc = dayOf(ymd).at.getTime();
  const wall = format(`wall ${timeZone}`, () =>
    new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }),
  );
  // The zone's offset from UTC at `t`: its wall-clock time read as if it were UTC, minus `t`.
  const offsetAt = (t: number) => {
    const p = Object.fromEntries(wall.formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(t / 1000) * 1000;
  };
  // Twice: the offset at the guess may differ from the one at the answer across a change of offset.
  let t = midnightUtc - offsetAt(midnightUtc);
  t = midnightUtc - offsetAt(t);
  return new Date(t);
}

function dayOf(ymd: string): { at: Date; day: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) throw new Error(`not a calendar date: ${ymd}`);
  const day = Number(m[3]);
  return { at: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, day)), day };
}

/** A calendar date (YYYY-MM-DD) written out in `locale`: 19 marzo 2026, 1° gennaio 2027, 1η Ιανουαρίου 2027. */
export function formatDate(ymd: string, locale: Locale): string {
  const { at, day } = dayOf(ymd);
  // A calendar date has no time zone: it is formatted as the UTC midnight that starts it.
  const text = format(`long ${locale}`, () => new Intl.DateTimeFormat(tags[locale], { dateStyle: 'long', timeZone: 'UTC' })).format(at);
  if (day !== 1) return text;
  if (locale === 'it') return text.replace(/^1 /, '1° ');
  if (locale === 'el') return text.replace(/^1 /, '1η ');
  return text;
}

/**
 * A calendar date as the complement of a verb, with the words before it: `on` (it expires on …,
 * it will be cancelled on …) or `from` (active from …).
 */
export function datePhrase(ymd: string, locale: Locale, as: 'on' | 'from'): string {
  const date = formatDate(ymd, locale);
  const { day } = dayOf(ymd);
  switch (locale) {
    case 'en':
      return `${as === 'on' ? 'on' : 'from'} ${date}`;
    case 'it': {
      // "otto" and "undici" begin with a vowel: l’8, dall’11.
      const elided = day === 8 || day === 11;
      if (as === 'on') return elided ? `l’${date}` : `il ${date}`;
      return elided ? `dall’${date}` : `dal ${date}`;
    }
    case 'el': {
      // The first is an ordinal (η πρώτη): την 1η; other days take the plural article: στις 19.
      if (as === 'on') return day === 1 ? `την ${date}` : `στις ${date}`;
      return day === 1 ? `από την ${date}` : `από τις ${date}`;
    }
  }
}

/**
 * The name of `timeZone` as people of `locale` read it after a time, e.g. "(ora dell’Europa
 * centrale)": a time sent by email is read wherever the recipient is, so it names its zone.
 */
export function timeZoneLabel(at: Date, locale: Locale, timeZone: string): string {
  const name = format(`zone ${locale} ${timeZone}`, () => new Intl.DateTimeFormat(tags[locale], { timeZone, timeZoneName: 'longGeneric' }))
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  if (!name) return timeZone;
  // Italian and Greek write the common noun in lowercase inside a sentence ("ora", "ώρα").
  return locale === 'en' ? name : name.charAt(0).toLocaleLowerCase(tags[locale]) + name.slice(1);
}

// One number format per language, made on first use.
const minuteFormats = new Map<Locale, Intl.NumberFormat>();

/**
 * A wait as people say it, in whole minutes rounded up ("1 minute", "12 minuti", "5 λεπτά"): a
 * wait of seconds is a minute, never "0 minutes". The plural is the language's own.
 */
export function waitPhrase(seconds: number, locale: Locale): string {
  let f = minuteFormats.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(tags[locale], { style: 'unit', unit: 'minute', unitDisplay: 'long' });
    minuteFormats.set(locale, f);
  }
  return f.format(Math.max(1, Math.ceil(seconds / 60)));
}
