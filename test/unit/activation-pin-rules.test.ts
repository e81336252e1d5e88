import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidAmka, luhnValid } from '../../src/domain/amka.js';
import { maskEmail, normalizeEmail } from '../../src/domain/email-mask.js';
import { checkInsuranceNumber, isEhicNumber } from '../../src/domain/insurance-number.js';
import { maskPhone, toE164 } from '../../src/domain/phone.js';
import { registerActivationPinTemplates } from '../../src/messages/activation-pin-templates.js';
import { fitsOneSmsSegment, isGsm7, renderMessage } from '../../src/messages/templates.js';
import { makeAmka } from '../activation-pin/helpers.js';

describe('AMKA (date + Luhn)', () => {
  const cases: Array<[string, boolean, string]> = [
    [makeAmka('150803'), true, 'valid date and check digit'],
    [makeAmka('290200'), true, '29 February 2000'],
    [makeAmka('290201'), false, '29 February 2001 (no leap year in 1901 or 2001)'],
    [makeAmka('320199'), false, 'day 32'],
    [makeAmka('011399'), false, 'month 13'],
    [makeAmka('000199'), false, 'day 0'],
    [`${makeAmka('150803').slice(0, 10)}${(Number(makeAmka('150803')[10]) + 1) % 10}`, false, 'wrong check digit'],
    ['1508031234', false, '10 digits'],
    ['150803123456', false, '12 digits'],
    ['15O8031234X', false, 'letters'],
    [` ${makeAmka('010190').slice(0, 6)}-${makeAmka('010190').slice(6)} `, true, 'spaces and a dash are ignored'],
    ['', false, 'empty'],
  ];
  for (const [value, expected, why] of cases) it(`${why}: ${JSON.stringify(value)} → ${expected}`, () => assert.equal(isValidAmka(value), expected));
  it('Luhn', () => {
    assert.equal(luhnValid('79927398713'), true);
    assert.equal(luhnValid('79927398710'), false);
  });
});

describe('foreign insurance numbers and EHIC', () => {
  const cases: Array<[string, string, boolean, string?]> = [
    ['FR', '80250000123456789012', true, 'ehic'],
    ['FR', '8025 0000 1234 5678 9012', true, 'ehic'],
    ['DE', '80276001234567890123', true, 'ehic'],
    ['DE', '80250000123456789012', false], // a French card number given for Germany
    ['FR', '8025000012345678901', false], // 19 digits: neither a card nor a NIR
    ['FR', '2 95 10 99 126 111 93', true, 'national'],
    ['FR', '2 95 10 99 126 111 94', false],
    ['BE', '85.07.30-033.28', true, 'national'],
    ['NL', '111222333', true, 'national'],
    ['NL', '111222334', false],
    ['DE', '65180539W001', true, 'national'], // pension insurance (Rentenversicherungsnummer)
    ['DE', '65180539W002', false],
    ['DE', 'A123456780', true, 'national'], // health insurance (Krankenversichertennummer)
    ['DE', 'a 12345678 0', true, 'national'],
    ['DE', 'X110411675', true, 'national'],
    ['DE', 'A123456789', false], // wrong check digit
    ['DE', 'X110411676', false],
    ['DE', 'A12345678', false], // one digit short
    ['DE', '0123456780', false], // no letter
    ['PL', '44051401359', true, 'national'],
    ['PL', '44051401358', false],
    ['GB', 'AB 12 34 56 C', true, 'national'],
    ['IT', 'RSSMRA85T10A562S', true, 'national'],
    ['IT', 'RSSMRA85T10A562T', false],
    ['GR', makeAmka('050505'), true, 'national'],
    ['CY', '1234567', true, 'generic'], // no known rule: letters and digits, 5 to 30
    ['CY', '12-34', false],
    ['JP', 'AB12345', true, 'generic'],
    ['JP', 'AB*12345', false],
    ['ZZ', '12345', false],
    ['', '12345', false],
  ];
  for (const [country, number, ok, kind] of cases) {
    it(`${country || '(none)'} ${number} → ${ok ? kind : 'invalid'}`, () => {
      const r = checkInsuranceNumber(country, number);
      assert.equal(r.ok, ok, JSON.stringify(r));
      if (r.ok) assert.equal(r.kind, kind);
    });
  }
  it('EHIC numbers carry the issuing country', () => {
    assert.equal(isEhicNumber('IT', '80380000000000000001'), true);
    assert.equal(isEhicNumber('IT', '80250000000000000001'), false);
  });
});

describe('phone and email matching', () => {
  const phones: Array<[string, string, string | null]> = [
    ['+30 691 234 5667', 'GR', '+306912345667'],
    ['0030 6912345667', 'GR', '+306912345667'],
    ['6912345667', 'GR', '+306912345667'],
    ['691-234-5667', 'GR', '+306912345667'],
    ['(691) 234 5667', 'GR', '+306912345667'],
    ['6912345667', 'IT', null], // not an Italian number
    ['+39 347 123 4567', 'GR', '+393471234567'],
    ['347 123 4567', 'IT', '+393471234567'],
    ['0039 347 1234567', 'IT', '+393471234567'],
    ['12', 'GR', null],
    ['six nine one', 'GR', null],
    ['', 'GR', null],
  ];
  for (const [input, country, expected] of phones) it(`${input} (${country}) → ${expected}`, () => assert.equal(toE164(input, country), expected));
  it('masks', () => {
    assert.equal(maskPhone('+306912345667'), '+30 69** *** *67');
    assert.equal(maskPhone('+393471234567'), '+39 34** *** *67');
    assert.equal(maskEmail('maria.rossi@example.org'), 'm***@example.org');
  });
  it('emails compare case-insensitively', () => {
    assert.equal(normalizeEmail(' Maria.Rossi@Example.ORG '), 'maria.rossi@example.org');
    assert.equal(normalizeEmail('no-at-sign'), null);
  });
});

describe('PIN message templates', () => {
  registerActivationPinTemplates();
  for (const locale of ['it', 'en', 'el'] as const) {
    it(`${locale}: the SMS fits one segment and the email has a plain-text part with the PIN`, () => {
      const params = { pin: '123456', minutes: 10, institution: 'UniDemo', helpdesk: '' };
      const sms = renderMessage('activation-pin', 'sms', locale, '+306912345667', 'activation_pin', params);
      assert.ok(fitsOneSmsSegment(sms.text), `${sms.text.length} chars (${isGsm7(sms.text) ? 'GSM-7' : 'UCS-2'})`);
      assert.ok(sms.text.includes('123456'));
      const mail = renderMessage('activation-pin', 'email', locale, 'a@example.org', 'activation_pin', params);
      assert.ok(mail.text.includes('123456'));
      assert.ok(mail.html!.includes('123456'));
      assert.ok(mail.subject && !mail.subject.includes('123456'), 'no PIN in the subject');
      assert.equal(mail.sensitive, true);
    });
  }
  it('GSM-7 detection', () => {
    assert.equal(isGsm7('PIN 123456'), true);
    assert.equal(isGsm7('κωδικός'), false);
  });
});
