import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate, version } from 'uuid';
import { timeOrderedId } from '../../src/db/ids.js';

describe('time-ordered ids', () => {
  it('are valid UUIDv7, unique, and ordered as made, also within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedId());
    for (const id of ids.slice(0, 500)) {
      assert.ok(validate(id), id);
      assert.equal(version(id), 7);
    }
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} before ${ids[i]}`);
  });

  it('carry the time they were made in their first 48 bits', () => {
    const before = Date.now();
    const id = timeOrderedId();
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    // Within one millisecond past the clock: the counter may have carried into the next one.
    assert.ok(ms >= before && ms <= Date.now() + 1, `${ms} vs ${before}`);
  });

  it('draw different random bits for each id (the pool is consumed, never reused)', () => {
    const tails = new Set(Array.from({ length: 1000 }, () => timeOrderedId().slice(-12)));
    assert.equal(tails.size, 1000);
  });
});
