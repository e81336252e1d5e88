import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testConfig } from '../helpers/app.js';
import { sourceHash, validateRecord } from '../../src/imports/record.js';

const config = testConfig();
const base = { externalId: '20260001', givenName: 'Giulia', familyName: 'Bianchi' };
const today = new Date('2026-11-23T09:00:00Z');

describe('validateRecord', () => {
  const rejected: Array<[string, Record<string, unknown>, string | undefined, Array<{ field: string; code: string }>]> = [
    ['a row population differing from the query', { ...base, population: 'staff' }, 'student', [{ field: 'population', code: 'population.invalid' }]],
    ['a card number without its country', { ...base, insuranceNumber: 'A1234567' }, 'student', [{ field: 'insuranceCountry', code: 'field.required' }]],
    ['a card country without its number', { ...base, insuranceCountry: 'DE' }, 'student', [{ field: 'insuranceNumber', code: 'field.required' }]],
    ['a bad card number', { ...base, insuranceCountry: 'DE', insuranceNumber: 'A-1' }, 'student', [{ field: 'insuranceNumber', code: 'insurance.invalid' }]],
    ['a German health-insurance number with a wrong check digit', { ...base, insuranceCountry: 'DE', insuranceNumber: 'A123456789' }, 'student', [{ field: 'insuranceNumber', code: 'insurance.invalid' }]],
    ['a French social-security number with a wrong key', { ...base, insuranceCountry: 'FR', insuranceNumber: '2 95 10 99 126 111 94' }, 'student', [{ field: 'insuranceNumber', code: 'insurance.invalid' }]],
    // Marks that reorder or hide text (as a person typing their name may not use either): in a
    // referent's email or a service's name claim they would turn the text around them.
    ['a right-to-left override in a family name', { ...base, familyName: 'Bianchi\u202e' }, 'student', [{ field: 'familyName', code: 'field.control_character' }]],
    ['a bidirectional isolate in a given name', { ...base, givenName: '\u2067Giulia' }, 'student', [{ field: 'givenName', code: 'field.control_character' }]],
    ['a zero-width space in a school name', { externalId: 'RMIC8A100X', name: 'Istituto\u200bRoma' }, 'school', [{ field: 'name', code: 'field.control_character' }]],
    ['a name over 100 characters', { ...base, familyName: 'x'.repeat(101) }, 'student', [{ field: 'familyName', code: 'field.too_long' }]],
    ['a boolean where text is expected (NDJSON)', { ...base, mobile: true }, 'student', [{ field: 'mobile', code: 'field.invalid' }]],
    ['an object as entitlements', { ...base, entitlements: { a: 1 } }, 'student', [{ field: 'entitlements', code: 'field.invalid' }]],
    ['an entitlement with spaces inside a list', { ...base, entitlements: ['ok', 'not ok'] }, 'student', [{ field: 'entitlements', code: 'field.invalid' }]],
    ['an externalId with spaces', { ...base, externalId: '2026 0001' }, 'student', [{ field: 'externalId', code: 'field.invalid' }]],
    ['a population the institution does not have', base, 'martians', [{ field: 'population', code: 'population.invalid' }]],
    ['a plain MD5 as initial password', { ...base, initialPasswordHash: '{MD5}X03MO1qnZdYdgyfeuILPmQ==' }, 'student', [{ field: 'initialPasswordHash', code: 'password_hash.unsupported' }]],
    ['an AMKA whose DDMMYY is not the birth date', { ...base, birthDate: '2005-01-16', amka: '15010523452' }, 'student', [{ field: 'amka', code: 'amka.birth_date_mismatch' }]],
    ['a birth date after today', { ...base, birthDate: '2026-11-24' }, 'student', [{ field: 'birthDate', code: 'date.invalid' }]],
    // Someone else's codice fiscale (with a right check character): it carries another birth date.
  ];
  for (const [name, values, population, errors] of rejected) {
    it(`rejects ${name}`, () => {
      const v = validateRecord(values, population, config, today);
      assert.equal(v.ok, false);
      if (!v.ok) assert.deepEqual(v.errors, errors);
    });
  }

  it('accepts a codice fiscale that carries the row’s birth date (a woman’s day plus 40, grouped, omocodia)', () => {
    for (const values of [
      { externalId: 'DOC001', givenName: 'Roberta', familyName: 'Marino', birthDate: '1980-01-01', taxCode: 'MRNRRT80A41H501N' },
      { externalId: 'DOC002', givenName: 'Stefano', familyName: 'Greco', birthDate: '1985-07-10', taxCode: 'grc sfn 85l10 h501b' },
      { externalId: 'DOC003', givenName: 'Nicolò', familyName: 'D’Amico', birthDate: '1990-03-05', taxCode: 'DMCNCL90C05H501I' },
      { externalId: 'DOC004', givenName: 'Anna Maria', familyName: 'Fo', birthDate: '1975-12-25', taxCode: 'FOXNMR75T65F205W' },
      { externalId: 'DOC005', givenName: 'Roberta', familyName: 'Marino', birthDate: '1980-01-01', taxCode: 'MRNRRT80A41H50MF' },
    ]) {
      const v = validateRecord(values, 'school_staff', config, today);
      assert.ok(v.ok, `${values.taxCode}: ${JSON.stringify(!v.ok && v.errors)}`);
    }
  });

  it('normalises: trims, numbers as text (NDJSON), status case, entitlements sorted and unique, contract type', () => {
    const v = validateRecord(
      { externalId: 20260001, givenName: '  Giulia ', familyName: 'Bianchi', status: 'Enrolled', entitlements: 'wifi library wifi', contractType: 'Fixed_Term', insuranceCountry: 'de', insuranceNumber: 'a 123 456 780' },
      'school_staff',
      config,
    );
    assert.ok(v.ok);
    assert.equal(v.record.externalId, '20260001');
    assert.equal(v.record.givenName, 'Giulia');
    assert.equal(v.record.status, 'enrolled');
    assert.deepEqual(v.record.entitlements, ['library', 'wifi']);
    assert.equal(v.record.contractType, 'fixed_term');
    assert.equal(v.record.insuranceCountry, 'DE');
    assert.equal(v.record.insuranceNumber, 'A123456780');
  });

  it('checks insurance numbers with the activation flow\'s rules: both German numbers, any country', () => {
    for (const [country, number, stored] of [
      ['DE', 'A 12345678 0', 'A123456780'],
      ['DE', '65180539W001', '65180539W001'],
      ['MX', 'ab12345', 'AB12345'], // a country without a known rule: letters and digits
    ] as const) {
      const v = validateRecord({ ...base, insuranceCountry: country, insuranceNumber: number }, 'student', config);
      assert.ok(v.ok, `${country} ${number}: ${JSON.stringify(v)}`);
      assert.equal(v.record.insuranceNumber, stored);
    }
  });

  it('reads an empty or null status as not given: a stored person keeps its own, a new one gets the default', () => {
    for (const status of ['', '  ', null]) {
      const v = validateRecord({ ...base, status }, 'student', config);
      assert.ok(v.ok, JSON.stringify(status));
      assert.deepEqual(v.record.absent?.includes('status'), true, JSON.stringify(status));
      assert.equal(v.record.status, 'enrolled');
    }
    const school = validateRecord({ externalId: 'RMIC8A100X', name: 'IC Roma 8', status: '' }, 'school', config);
    assert.ok(school.ok);
    assert.equal(school.record.status, 'active');
    const given = validateRecord({ ...base, status: 'ceased' }, 'student', config);
    assert.ok(given.ok);
    assert.equal(given.record.absent?.includes('status') ?? false, false);
  });

  it('normalises grouped codes before checking their length: a tax code and an AMKA with spaces or dashes', () => {
    // Codes of one person: both carry the birth date, 15 January 2005.
    for (const [taxCode, amka] of [['BNC GLI 05A55 H501D', '150105 23452'], ['bnc gli 05a55 h501d', '150105-23452'], [' BNCGLI05A55H501D ', '15 01 05 23 45 2']]) {
      const v = validateRecord({ ...base, birthDate: '2005-01-15', taxCode, amka }, 'student', config, today);
      assert.ok(v.ok, `${taxCode} ${amka}: ${JSON.stringify(v)}`);
      assert.deepEqual([v.record.taxCode, v.record.amka], ['BNCGLI05A55H501D', '15010523452']);
    }
  });

  it('accepts an AMKA carrying the birth date, a birth date of today, and an AMKA or a date alone', () => {
    for (const values of [
      { ...base, birthDate: '2005-01-15', amka: '150105-23452' },
      { ...base, birthDate: '2026-11-23' },
      { ...base, amka: '15010523452' },
      { ...base, birthDate: '1990-01-01' },
    ]) {
      const v = validateRecord(values, 'student', config, today);
      assert.ok(v.ok, JSON.stringify(v));
    }
  });

  it('reads a mobile written with Unicode dashes like one with ASCII dashes', () => {
    for (const mobile of ['347-123-4567', '347\u2013123\u20134567', '347\u2014123\u20144567', '347\u2212123\u22124567', '347\u2011123\u20114567']) {
      const v = validateRecord({ ...base, mobile }, 'student', config, today);
      assert.ok(v.ok, `${mobile}: ${JSON.stringify(v)}`);
      assert.equal(v.record.mobile, '+393471234567');
    }
  });

  it('hashes the normalised values: the same data written differently hashes the same', () => {
    const a = validateRecord({ ...base, taxCode: 'bncgli05d52h501b', mobile: '347 123 4567' }, 'student', config);
    const b = validateRecord({ ...base, taxCode: 'BNCGLI05D52H501B', mobile: '+39 347 1234567' }, 'student', config);
    const c = validateRecord({ ...base, taxCode: 'BNCGLI05D52H501B', mobile: '+39 347 1234568' }, 'student', config);
    assert.ok(a.ok && b.ok && c.ok);
    assert.equal(sourceHash(a.record), sourceHash(b.record));
    assert.notEqual(sourceHash(a.record), sourceHash(c.record));
  });
});
