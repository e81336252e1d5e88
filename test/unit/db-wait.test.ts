import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { whenDatabaseAnswers } from '../../src/db/wait.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A clock the waits move, so nothing really sleeps. */
function fakeTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), waited: [] as number[] };
}

describe('waiting for the database at start', () => {
  it('retries while the database is unreachable, 1 s, 2 s, 4 s apart, then goes on', async () => {
    const time = fakeTime();
    let calls = 0;
    const got = await whenDatabaseAnswers(
      async () => {
        calls++;
        if (calls < 4) throw refused();
        return 'ready';
      },
      { waitMs: 60_000, onWait: (_e, next) => time.waited.push(next), sleep: time.sleep, now: time.now },
    );
    assert.equal(got, 'ready');
    assert.deepEqual(time.waited, [1000, 2000, 4000]);
  });

  it('gives up when the wait is over, with the last error', async () => {
    const time = fakeTime();
    await assert.rejects(
      whenDatabaseAnswers(
        async () => {
          throw refused();
        },
        { waitMs: 20_000, onWait: (_e, next) => time.waited.push(next), sleep: time.sleep, now: time.now },
      ),
      /ECONNREFUSED/,
    );
    assert.deepEqual(time.waited, [1000, 2000, 4000, 8000, 5000]);
  });

  it('does not retry other errors (a wrong password, a bad migration)', async () => {
    let calls = 0;
    await assert.rejects(
      whenDatabaseAnswers(
        async () => {
          calls++;
          throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
        },
        { waitMs: 60_000, onWait: () => assert.fail('no wait') },
      ),
      /password authentication failed/,
    );
    assert.equal(calls, 1);
  });
});
