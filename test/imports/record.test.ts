import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testConfig } from '../helpers/app.js';
import { sourceHash, validateRecord } from '../../src/imports/record.js';

const config = testConfig();
const base = { externalId: '20260001', givenName: 'Giulia', familyName: 'Bianchi' };

describe('validateRecord', () => {
  const rejected: Array<[string, Record<string, unknown>, string | undefined, Array<{ field: string; code: string }>]> = [
    ['a row population differing from the query', { ...base, population: 'staff' }, 'student', [{ field: 'population', code: 'population.invalid' }]],
    ['a card number without its country', { ...base, insuranceNumber: 'A1234567' }, 'student', [{ field: 'insuranceCountry', code: 'field.required' }]],
    ['a card country without its number', { ...base, insuranceCountry: 'DE' }, 'student', [{ field: 'insuranceNumber', code: 'field.required' }]],
    ['a bad card number', { ...base, insuranceCountry: 'DE', insuranceNumber: 'A-1' }, 'student', [{ field: 'insuranceNumber', code: 'insurance.invalid' }]],
    ['a German health-insurance number with a wrong check digit', { ...base, insuranceCountry: 'DE', insuranceNumber: 'A123456789' }, 'student', [{ field: 'insuranceNumber', code: 'insurance.invalid' }]],
    ['a French social-security number with a wrong key', { ...base, insuranceCountry: 'FR', insuranceNumber: '2 95 10 99 126 111 94' }, 'student', [{ field: 'insuranceNumber', code: 'insurance.invalid' }]],
    ['a name over 100 characters', { ...base, familyName: 'x'.repeat(101) }, 'student', [{ field: 'familyName', code: 'field.too_long' }]],
    ['a boolean where text is expected (NDJSON)', { ...base, mobile: true }, 'student', [{ field: 'mobile', code: 'field.invalid' }]],
    ['an object as entitlements', { ...base, entitlements: { a: 1 } }, 'student', [{ field: 'entitlements', code: 'field.invalid' }]],
    ['an entitlement with spaces inside a list', { ...base, entitlements: ['ok', 'not ok'] }, 'student', [{ field: 'entitlements', code: 'field.invalid' }]],
    ['an externalId with spaces', { ...base, externalId: '2026 0001' }, 'student', [{ field: 'externalId', code: 'field.invalid' }]],
    ['a population the institution does not have', base, 'martians', [{ field: 'population', code: 'population.invalid' }]],
    ['a plain MD5 as initial password', { ...base, initialPasswordHash: '{MD5}X03MO1qnZdYdgyfeuILPmQ==' }, 'student', [{ field: 'initialPasswordHash', code: 'password_hash.unsupported' }]],
  ];
  for (const [name, values, population, errors] of rejected) {
    it(`rejects ${name}`, () => {
      const v = validateRecord(values, population, config);
      assert.equal(v.ok, false);
      if (!v.ok) assert.deepEqual(v.errors, errors);
    });
  }

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

  it('hashes the normalised values: the same data written differently hashes the same', () => {
    const a = validateRecord({ ...base, taxCode: 'bncgli05d52h501b', mobile: '347 123 4567' }, 'student', config);
    const b = validateRecord({ ...base, taxCode: 'BNCGLI05D52H501B', mobile: '+39 347 1234567' }, 'student', config);
    const c = validateRecord({ ...base, taxCode: 'BNCGLI05D52H501B', mobile: '+39 347 1234568' }, 'student', config);
    assert.ok(a.ok && b.ok && c.ok);
    assert.equal(sourceHash(a.record), sourceHash(b.record));
    assert.notEqual(sourceHash(a.record), sourceHash(c.record));
  });
});
