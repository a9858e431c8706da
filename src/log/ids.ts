import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const POOL_SIZE = 4096;
const pool = new Uint32Array(POOL_SIZE);
let next = POOL_SIZE;

/** A cryptographic PRNG for ulid that draws from a pooled buffer instead of one syscall per character. */
function pooledRandom(): number {
  if (next === POOL_SIZE) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++] / 0x1_0000_0000;
}

const nextUlid = monotonicFactory(pooledRandom);

/** A new ULID; ids minted in one process sort in mint order. */
export function newEventId(now: number = Date.now()): string {
  return nextUlid(now);
}
