import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Random bytes for ids, drawn from a pool refilled 4 KiB at a time: the uuid library asks the
 * system for 16 fresh bytes on every call, which costs more than the rest of the id (a registrar's
 * import makes two ids per row).
 */
const pool = new Uint8Array(4096);
let taken = pool.length;
function random16(): Uint8Array {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const bytes = pool.subarray(taken, taken + 16);
  taken += 16;
  return bytes;
}

// The millisecond and counter of the last id, as the library keeps them for its own calls:
// ids made in one process keep their order, also within one millisecond.
let lastMs = -Infinity;
let seq = 0;

/**
 * A UUIDv7 (RFC 9562): time-ordered, random below the millisecond. Rows added by the hundred
 * thousand get keys that append to the end of the primary-key index instead of splitting pages
 * all over it.
 */
export function timeOrderedId(): string {
  const random = random16();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // A random start for the 32-bit counter, in its lower half so that it has room to count.
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  return uuidv7({ random, msecs: lastMs, seq });
}
