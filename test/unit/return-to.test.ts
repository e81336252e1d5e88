import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeReturnTo } from '../../src/flows/login/machine.js';

describe('return addresses after sign-in', () => {
  it('keeps same-site paths, with their query and fragment', () => {
    assert.equal(safeReturnTo('/account'), '/account');
    assert.equal(safeReturnTo('/oidc/interaction/abc123/login?x=1#top'), '/oidc/interaction/abc123/login?x=1#top');
    assert.equal(safeReturnTo('/a/../account'), '/account');
  });

  it('refuses anything a browser would take to another site', () => {
    for (const v of [
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/\t\\evil.example',
      '/\n/evil.example',
      '/\r\n/evil.example',
      '/ /evil.example',
      '\t//evil.example',
      'javascript:alert(1)',
      'account',
      '',
      `/${'a'.repeat(600)}`,
    ]) {
      assert.equal(safeReturnTo(v), undefined, JSON.stringify(v));
    }
    assert.equal(safeReturnTo(undefined), undefined);
  });
});
