import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAmka, luhnValid } from '../../src/domain/amka.js';
import { codiceFiscaleCheckChar, normaliseCodiceFiscale } from '../../src/domain/codice-fiscale.js';
import { isoCountryCount, normaliseCountry } from '../../src/domain/iso-country.js';
import {
  normaliseDate,
  normaliseEmail,
  normaliseSchoolCode,
  normaliseSchoolYear,
} from '../../src/domain/person-fields.js';
import { toE164 } from '../../src/domain/phone.js';

function table<T>(name: string, fn: (input: string) => T, cases: Array<[string, T]>) {
  describe(name, () => {
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(fn(input), expected));
    }
  });
}

table('codice fiscale', normaliseCodiceFiscale, [
  ['RSSMRA80A01H501U', 'RSSMRA80A01H501U'], // the textbook Mario Rossi, Rome, 1 January 1980
  ['rssmra80a01h501u', 'RSSMRA80A01H501U'],
  [' RSS MRA 80A01 H501U ', 'RSSMRA80A01H501U'],
  ['BNCGLI05D52H501B', 'BNCGLI05D52H501B'], // a woman: day of birth + 40
  ['RSSMRA80A01H501X', null], // wrong check character
  ['RSSMRA80A01H501', null], // 15 characters
  ['RSSMRA80A01H501UU', null],
  ['RSSMRA80Z01H501U', null], // Z is no month
  ['RSSMRA80A35H501U', null], // day 35
  ['RSSMRA80A00H501U', null], // day 0
  ['RSSMR180A01H501U', null], // a digit among the name letters
  ['RSSMRA8AA01H501U', null], // A is not an omocodia letter
  ['12345678901', null], // a temporary (numeric) code is not a person's code
  ['', null],
]);

describe('codice fiscale with omocodia', () => {
  // The revenue agency replaces digits from the right: 1→M, 0→L, 5→R, 8→U …
  for (const first15 of ['RSSMRA80A01H50M', 'RSSMRA80A01H5LM', 'RSSMRA80A01HRLM', 'RSSMRA80A0MHRLM', 'RSSMRAULALMHRLM']) {
    const code = first15 + codiceFiscaleCheckChar(first15);
    it(`accepts ${code}`, () => assert.equal(normaliseCodiceFiscale(code.toLowerCase()), code));
    it(`rejects ${first15} with another check character`, () => {
      const wrong = String.fromCharCode(((code.charCodeAt(15) - 65 + 1) % 26) + 65);
      assert.equal(normaliseCodiceFiscale(first15 + wrong), null);
    });
  }
  it('reads omocodia days back as digits (day 71 is a woman born on the 31st; 72 is not a day)', () => {
    const ok = 'RSSMRA80A7MH501'; // 7M = 71
    assert.equal(normaliseCodiceFiscale(ok + codiceFiscaleCheckChar(ok)), ok + codiceFiscaleCheckChar(ok));
    const bad = 'RSSMRA80A7NH501'; // 7N = 72
    assert.equal(normaliseCodiceFiscale(bad + codiceFiscaleCheckChar(bad)), null);
  });
});

table('AMKA', parseAmka, [
  ['01019012341', '01019012341'], // 1 January 1990, Luhn digit 1
  ['010190 12341', '01019012341'],
  ['29020012349', '29020012349'], // 29 February 2000: a leap year
  ['15010523452', '15010523452'],
  ['01019012342', null], // Luhn fails
  ['29020112345', null], // 29 February 1901/2001: no such day
  ['31040012345', null], // 31 April
  ['00019012341', null], // day 0
  ['0101901234', null], // 10 digits
  ['010190123410', null],
  ['0101901234A', null],
  ['', null],
]);

describe('Luhn', () => {
  it('agrees with the textbook example', () => {
    assert.equal(luhnValid('79927398713'), true);
    assert.equal(luhnValid('79927398710'), false);
  });
});

describe('phone numbers (E.164)', () => {
  const cases: Array<[string, string, string | null]> = [
    ['347 123 4567', 'IT', '+393471234567'],
    ['+39 347 123 4567', 'GR', '+393471234567'],
    ['0039 347 1234567', 'GR', '+393471234567'],
    ['06 49911234', 'IT', '+390649911234'], // a Rome landline keeps its 0
    ['6912345678', 'GR', '+306912345678'],
    ['+30 691 234 5678', 'IT', '+306912345678'],
    ['+49 151 23456789', 'IT', '+4915123456789'],
    // Dashes as word processors and phone keyboards write them: en, em, minus, non-breaking hyphen.
    ['347\u2013123\u20134567', 'IT', '+393471234567'],
    ['+30\u2014691\u2014234\u20145678', 'IT', '+306912345678'],
    ['347\u2212123\u22124567', 'IT', '+393471234567'],
    ['347\u2011123\u20114567', 'IT', '+393471234567'],
    ['12', 'IT', null],
    ['not a number', 'IT', null],
    ['+39 123', 'IT', null],
    ['', 'IT', null],
  ];
  for (const [input, country, expected] of cases) {
    it(`${input} (${country}) → ${expected}`, () => assert.equal(toE164(input, country), expected));
  }
});

table('email', normaliseEmail, [
  ['mario.rossi@example.org', 'mario.rossi@example.org'],
  ['  Mario.Rossi@Example.ORG ', 'Mario.Rossi@example.org'],
  ['eleni+uni@mail.example.gr', 'eleni+uni@mail.example.gr'],
  ['bad@', null],
  ['@example.org', null],
  ['a b@example.org', null],
  ['mario.rossi@example', null],
  ['', null],
]);

table('dates (YYYY-MM-DD)', normaliseDate, [
  ['2001-03-04', '2001-03-04'],
  ['2024-02-29', '2024-02-29'],
  ['2000-02-29', '2000-02-29'],
  ['1900-02-29', null], // 1900 is not a leap year
  ['2023-02-29', null],
  ['2001-04-31', null],
  ['2001-13-01', null],
  ['2001-00-10', null],
  ['04/03/2001', null],
  ['2001-3-4', null],
  ['1899-12-31', null],
  ['', null],
]);

describe('ISO 3166-1 alpha-2 countries', () => {
  it('knows the 249 assigned codes, each a region the platform can name', () => {
    assert.equal(isoCountryCount, 249);
    const names = new Intl.DisplayNames('en', { type: 'region', fallback: 'none' });
    for (const c of ['IT', 'GR', 'DE', 'FR', 'ES', 'GB', 'US', 'CH', 'AL', 'UA']) assert.ok(names.of(c));
  });
  const cases: Array<[string, string | null]> = [
    ['it', 'IT'],
    [' GR ', 'GR'],
    ['EL', null], // Greece's EU abbreviation is not its ISO code
    ['UK', null],
    ['XX', null],
    ['ITA', null],
    ['', null],
  ];
  for (const [input, expected] of cases) it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(normaliseCountry(input), expected));
});

table('school years', normaliseSchoolYear, [
  ['2026/27', '2026/27'],
  ['2026/2027', '2026/27'],
  ['2026-27', '2026/27'],
  ['1999/00', '1999/00'],
  ['2026/28', null],
  ['2026', null],
]);

table('ministry school codes', normaliseSchoolCode, [
  ['RMIC8A100X', 'RMIC8A100X'],
  ['rmic8a100x', 'RMIC8A100X'],
  ['RM1C8A100X', null],
  ['RMIC8A100', null],
]);
