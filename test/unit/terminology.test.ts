import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageKeys, translate } from '../../src/i18n/index.js';

describe('one word for one thing, in every language', () => {
  it('Greek calls the institutional address and mailbox "ιδρυματικ-", as the account page does', () => {
    // The account page names the address "Ιδρυματική διεύθυνση" beside the link that asks for a
    // mailbox: the mailbox pages and emails must not call the same thing "θεσμικό".
    assert.match(translate('el', 'account.email'), /^Ιδρυματική /);
    const other = messageKeys().filter((k) => /θεσμικ/i.test(translate('el', k)));
    assert.deepEqual(other, []);
  });
});
