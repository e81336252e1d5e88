import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// Every flow registers its message templates when its module loads.
import '../../src/flows/index.js';
import { locales, messageKeys, translate } from '../../src/i18n/index.js';
import { fitsOneSmsSegment, getTemplate, isGsm7, renderMessage, templateNames } from '../../src/messages/templates.js';

// A typical institution short name at its longest, a 6-digit code, a two-digit lifetime.
const params = { institution: 'UniAteneo1', code: '221970', pin: '221970', minutes: 15, helpdesk: 'helpdesk@example.org' };
const why = (text: string) => `${text.length} characters (${isGsm7(text) ? 'GSM-7' : 'UCS-2'}): ${text}`;

describe('every SMS fits one segment', () => {
  const smsKeys = messageKeys().filter((k) => k.startsWith('sms.'));
  it('there are SMS messages and templates to check', () => {
    assert.ok(smsKeys.includes('sms.reset'));
    assert.ok(templateNames().some((n) => getTemplate(n).sms));
  });
  for (const locale of locales) {
    it(`${locale}: the translated SMS messages, with a 10-character short name`, () => {
      for (const key of smsKeys) {
        const text = translate(locale, key, params);
        assert.doesNotMatch(text, /\{\w+\}/, `${key}: a placeholder left`);
        assert.ok(fitsOneSmsSegment(text), `${key}: ${why(text)}`);
      }
    });
    it(`${locale}: the SMS templates, with a 10-character short name`, () => {
      for (const name of templateNames().filter((n) => getTemplate(n).sms)) {
        const sms = renderMessage(name, 'sms', locale, '+306912345667', 'test', params);
        assert.ok(fitsOneSmsSegment(sms.text), `${name}: ${why(sms.text)}`);
        assert.equal(sms.lang, locale);
      }
    });
  }
  it('the Greek password-reset SMS is short enough for UCS-2', () => {
    assert.equal(translate('el', 'sms.reset', { institution: 'UniDemo', code: '221970', minutes: 15 }), 'UniDemo κωδικός επαναφοράς 221970, ισχύει 15 λεπτά. Μην τον δώσετε.');
  });
});
