import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calendarDate, datePhrase, formatDate, timeZoneLabel } from '../../src/i18n/dates.js';

describe('dates in messages', () => {
  it('are written out in each language, the first of a month as an ordinal in Italian and Greek', () => {
    assert.equal(formatDate('2026-03-19', 'it'), '19 marzo 2026');
    assert.equal(formatDate('2026-03-19', 'en'), '19 March 2026');
    assert.equal(formatDate('2026-03-19', 'el'), '19 Μαρτίου 2026');
    assert.equal(formatDate('2027-01-01', 'it'), '1° gennaio 2027');
    assert.equal(formatDate('2027-01-01', 'en'), '1 January 2027');
    assert.equal(formatDate('2027-01-01', 'el'), '1η Ιανουαρίου 2027');
  });

  it('take the words their day needs before them', () => {
    const cases: Array<[string, 'it' | 'en' | 'el', 'on' | 'from', string]> = [
      ['2027-01-01', 'it', 'on', 'il 1° gennaio 2027'],
      ['2027-01-01', 'el', 'on', 'την 1η Ιανουαρίου 2027'],
      ['2027-01-01', 'en', 'on', 'on 1 January 2027'],
      ['2026-03-19', 'it', 'on', 'il 19 marzo 2026'],
      ['2026-03-19', 'el', 'on', 'στις 19 Μαρτίου 2026'],
      ['2026-03-08', 'it', 'on', 'l’8 marzo 2026'],
      ['2026-03-11', 'it', 'on', 'l’11 marzo 2026'],
      ['2026-09-01', 'it', 'from', 'dal 1° settembre 2026'],
      ['2026-09-01', 'el', 'from', 'από την 1η Σεπτεμβρίου 2026'],
      ['2026-03-20', 'it', 'from', 'dal 20 marzo 2026'],
      ['2026-03-08', 'it', 'from', 'dall’8 marzo 2026'],
      ['2026-03-20', 'el', 'from', 'από τις 20 Μαρτίου 2026'],
      ['2026-03-20', 'en', 'from', 'from 20 March 2026'],
    ];
    for (const [ymd, locale, as, expected] of cases) assert.equal(datePhrase(ymd, locale, as), expected);
  });

  it('are the calendar day of the given time zone', () => {
    const lateEvening = new Date('2026-03-19T22:30:00Z');
    assert.equal(calendarDate(lateEvening, 'Europe/Rome'), '2026-03-19');
    assert.equal(calendarDate(lateEvening, 'Europe/Athens'), '2026-03-20');
  });

  it('name a time zone as people read it after a time', () => {
    const at = new Date('2026-03-06T13:30:00Z');
    assert.equal(timeZoneLabel(at, 'it', 'Europe/Rome'), 'ora dell’Europa centrale');
    assert.equal(timeZoneLabel(at, 'en', 'Europe/Rome'), 'Central European Time');
    assert.equal(timeZoneLabel(at, 'el', 'Europe/Athens'), 'ώρα Ανατολικής Ευρώπης');
  });
});
