import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldName, renderPattern } from '../../src/domain/address-pattern.js';

describe('names folded for usernames and addresses', () => {
  const cases: Array<[string, string]> = [
    // Greek as in Greek passports (ELOT 743), not letter by letter (papadopoyloy).
    ['Ελένη', 'eleni'],
    ['Παπαδοπούλου', 'papadopoulou'],
    ['Γιώργος', 'giorgos'],
    ['Νικολάου', 'nikolaou'],
    ['ΠΑΠΑΔΟΠΟΥΛΟΣ', 'papadopoulos'],
    ['Ευάγγελος', 'evangelos'],
    ['Ευθύμιος', 'efthymios'],
    ['Παύλος', 'pavlos'],
    ['Χρήστος', 'christos'],
    ['Μπάμπης', 'bampis'],
    ['Ταΰγετος', 'taygetos'],
    // Latin letters that do not decompose into a letter and an accent.
    ['Łukasz', 'lukasz'],
    ['Wąsowski', 'wasowski'],
    ['Đorđe', 'dorde'],
    ['Đukić', 'dukic'],
    ['Søren', 'soren'],
    ['Æsa', 'aesa'],
    ['Straße', 'strasse'],
    ['Þóra', 'thora'],
    ['Guðrún', 'gudrun'],
    ['Œuvray', 'oeuvray'],
    ['Iğdır', 'igdir'],
    // Other scripts, and what folded before.
    ['Иван', 'ivan'],
    ['Màrio', 'mario'],
    ["Dell'Orto", 'dellorto'],
    ['De Luca', 'deluca'],
    ['Anne-Marie', 'anne-marie'],
    ['-Anna-', 'anna'],
    ['’', ''],
  ];
  for (const [name, folded] of cases) {
    it(`${name} → ${folded || '(nothing)'}`, () => assert.equal(foldName(name), folded));
  }

  const input = { externalId: 'S-77', domain: 'Scuole.Example.org' };
  it('renders Greek names readably', () => {
    assert.equal(renderPattern('{given}.{family}@{domain}', { ...input, givenName: 'Ελένη', familyName: 'Παπαδοπούλου' }), 'eleni.papadopoulou@scuole.example.org');
    assert.equal(renderPattern('{given}.{family}', { ...input, givenName: 'Γιώργος Αλέξανδρος', familyName: 'Νικολάου' }), 'giorgos.nikolaou');
  });

  it('a name that folds to nothing gives the external id, never `.` or a name starting or ending with a dot', () => {
    for (const [givenName, familyName] of [['’', 'Rossi'], ['Anna', '-'], ['\uE000', '\uE001']] as const) {
      assert.equal(renderPattern('{given}.{family}', { ...input, givenName, familyName }), 's-77');
      assert.equal(renderPattern('{given}.{family}@scuole.{domain}', { ...input, givenName, familyName }), 's-77@scuole.scuole.example.org');
      assert.equal(renderPattern('{given}.{family}@{domain}', { ...input, givenName, familyName, fallback: 'anna.bassi2' }), 'anna.bassi2@scuole.example.org');
    }
    // An external id of signs only: still a valid name, the same every time.
    const odd = renderPattern('{given}.{family}', { ...input, externalId: '@@', givenName: '’', familyName: '’' });
    assert.match(odd, /^[a-z0-9]+$/);
    assert.equal(renderPattern('{given}.{family}', { ...input, externalId: '@@', givenName: '-', familyName: '-' }), odd);
    assert.equal(renderPattern('{given}.{family}', { ...input, externalId: '.Ω._x.', givenName: '-', familyName: '-' }), 'o.x');
  });

  it('the first word of a given name that leaves letters', () => {
    assert.equal(renderPattern('{given}.{family}', { ...input, givenName: '’ Anna Maria', familyName: 'Bassi' }), 'anna.bassi');
  });

  it('patterns without names are unchanged', () => {
    assert.equal(renderPattern('{externalId}@studenti.{domain}', { ...input, givenName: '’', familyName: '’' }), 's-77@studenti.scuole.example.org');
  });
});
