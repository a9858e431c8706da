import { expect } from 'chai';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { tempDir } from '../helpers/temp';

/**
 * `osis verify` and `osis rebuild` on sqlite drew their bar at 0% and then 100%: progress came once per
 * 20,000 events and better-sqlite3's synchronous reads never let the bar's timer run. Progress now comes
 * every 5,000 events with a turn of the event loop after each.
 */
describe('progress of verify and rebuild moves, with the event loop running in between', function () {
  this.timeout(120_000);
  const EVENTS = 16_000;
  let store: Store;

  before(async () => {
    store = await openStore(`sqlite:${path.join(tempDir(), 'osis.db')}`, { durability: 'normal' });
    const notes = store.collection('note');
    for (let i = 0; i < EVENTS; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, k) => notes._new({ title: `note ${i + k}` }, { sid: `n${i + k}` })));
    }
  });
  after(async () => store.close());

  async function observe(run: (onProgress: (done: number, total: number) => void) => Promise<unknown>) {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const seen: { done: number; total: number; ticks: number }[] = [];
    try {
      await run((done, total) => seen.push({ done, total, ticks }));
    } finally {
      clearInterval(timer);
    }
    return seen;
  }

  for (const [name, run] of [
    ['verify', (p: (done: number, total: number) => void) => store.verify(p)],
    ['rebuild', (p: (done: number, total: number) => void) => store.rebuild(p)],
  ] as const) {
    it(`${name}: reports at least four steps between 0 and the head, and timers run between them`, async () => {
      const seen = await observe(run);
      const steps = [...new Set(seen.map((s) => s.done))];
      expect(steps.length, JSON.stringify(steps)).to.be.at.least(4);
      expect(steps[steps.length - 1]).to.equal(EVENTS);
      expect(seen.every((s) => s.total === EVENTS)).to.equal(true);
      const inner = seen.filter((s) => s.done > 0 && s.done < EVENTS);
      expect(inner.length).to.be.at.least(2);
      expect(seen[seen.length - 1].ticks, 'timer ticks by the last step').to.be.above(seen[0].ticks);
    });
  }
});
