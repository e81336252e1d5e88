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
      // Dot segments that the URL parser removes, leaving a path that starts with '//'.
      '/..//evil.example',
      '/.//evil.example',
      '/a/..//evil.example/x',
      '/%2e%2e//evil.example',
      '/%2E//evil.example',
      'javascript:alert(1)',
      'account',
      '',
      `/${'a'.repeat(600)}`,
    ]) {
      assert.equal(safeReturnTo(v), undefined, JSON.stringify(v));
    }
    assert.equal(safeReturnTo(undefined), undefined);
    assert.equal(safeReturnTo(['/account', '/account']), undefined);
  });
});

describe('client address keys', () => {
  it('counts IPv4 by address and IPv6 by its /64 network', async () => {
    const { addressKey } = await import('../../src/auth/throttle.js');
    assert.equal(addressKey('192.0.2.1'), 'ip:192.0.2.1');
    assert.equal(addressKey('::ffff:192.0.2.1'), 'ip:192.0.2.1');
    const net = addressKey('2001:db8:1:2:3:4:5:6');
    assert.equal(net, 'ip6:2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2::7', '2001:0db8:0001:0002:aaaa::1', '2001:DB8:1:2:ffff:ffff:ffff:ffff']) assert.equal(addressKey(same), net, same);
    assert.notEqual(addressKey('2001:db8:1:3::1'), net);
    assert.equal(addressKey('2001:db8::'), 'ip6:2001:db8:0:0::/64');
  });
});
