import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefixEnd } from '../../src/admin/find-accounts.js';
import { nameKey, nameKeyColumns, nameSearchKey } from '../../src/domain/name-key.js';

describe('name keys', () => {
  it('drop case and accents, fold the final sigma, the apostrophes and the hyphens', () => {
    const cases: Array<[string, string]> = [
      ['Nicolò Ferrà', 'nicolo ferra'],
      ['NÚÑEZ', 'nunez'],
      ["D'Angelo", 'dangelo'],
      ['D’Angelo', 'dangelo'],
      ["D' Angelo", 'dangelo'],
      ['Rossi-Bianchi', 'rossi bianchi'],
      ['  De   Luca ', 'de luca'],
      ['Παπαδοπούλου', 'παπαδοπουλου'],
      ['ΣΤΑΥΡΟΠΟΥΛΟΣ', 'σταυροπουλοσ'],
      ['Σταυρόπουλος', 'σταυροπουλοσ'],
      ['Ϊάσονας', 'ιασονασ'],
      ['İpek', 'ipek'],
    ];
    for (const [name, key] of cases) assert.equal(nameKey(name), key, name);
  });

  it('are stored family first and given first; a missing part leaves no stray space', () => {
    assert.deepEqual(nameKeyColumns('Maria', 'Rossi'), { name_key_family_first: 'rossi maria', name_key_given_first: 'maria rossi' });
    assert.deepEqual(nameKeyColumns('', 'Liceo Galilei'), { name_key_family_first: 'liceo galilei', name_key_given_first: 'liceo galilei' });
  });

  it('are searched for names of 3 letters or more only', () => {
    assert.equal(nameSearchKey('Rossi Mario'), 'rossi mario');
    assert.equal(nameSearchKey("d'a"), null);
    assert.equal(nameSearchKey('ab'), null);
    assert.equal(nameSearchKey('Ros'), 'ros');
    for (const notName of ['rossi2', 'm.rossi', 'rossi@example.org', 'RSSMRA80A01F205X']) assert.equal(nameSearchKey(notName), null, notName);
  });

  it('bound a prefix by the next code point, beyond U+FFFF too', () => {
    assert.equal(prefixEnd('rossi'), 'rossj');
    assert.equal(prefixEnd('παπα'), 'παπβ');
    assert.equal(prefixEnd('a\u{20000}'), 'a\u{20001}');
    assert.ok('a\u{20000}b' < prefixEnd('a\u{20000}') && 'a\u{20000}b' > 'a\u{20000}');
  });
});
