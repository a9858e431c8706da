import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new ULID; ids minted in one process sort in mint order. */
export function newEventId(now: number = Date.now()): string {
  return nextUlid(now);
}
