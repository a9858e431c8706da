import { expect } from 'chai';
import * as path from 'node:path';
import { MemoryEventLog } from '../../src/backends/memory/memory-log';
import { SqliteEventLog } from '../../src/backends/sqlite/sqlite-log';
import { changeBatches, changeFeed, processChanges } from '../../src/api/library/change-feed';
import type { EventLog, ProposedEvent, StoredEvent } from '../../src';
import { tap } from 'rxjs';
import { firstN, spyLog, until } from '../helpers/feed';
import { tempDir } from '../helpers/temp';

const note = (sid: string): ProposedEvent => ({ type: 'note', sid, kind: 'created', data: { sid } });
const notes = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => note(`${prefix}${i}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const LOGS: { name: string; open(): EventLog | Promise<EventLog> }[] = [
  { name: 'memory', open: () => new MemoryEventLog() },
  { name: 'sqlite', open: () => SqliteEventLog.open(path.join(tempDir(), 'feed.db'), { durability: 'normal' }) },
];

for (const kind of LOGS) {
  describe(`change feed over the ${kind.name} log`, function () {
    this.timeout(30_000);
    let inner: EventLog;
    beforeEach(async () => {
      inner = await kind.open();
    });
    afterEach(async () => inner.close());

    it('errors when the log throws, after delivering what it read before', async () => {
      await inner.append(notes('a', 5));
      const { log } = spyLog(inner, { failOnRead: 2 });
      const seen: number[] = [];
      const error = await new Promise<Error>((resolve) => {
        changeFeed(log, { batchSize: 3 }).subscribe({ next: (e) => seen.push(e.position), error: resolve });
      });
      expect(error.message).to.equal('read 2 failed');
      expect(seen).to.deep.equal([1, 2, 3]);
    });

    it('errors with CLOSED when the log is closed under a live feed', async () => {
      const error = await new Promise<{ code?: string }>((resolve) => {
        changeFeed(inner).subscribe({ error: resolve });
        setTimeout(() => void inner.close(), 30);
      });
      expect(error.code).to.equal('CLOSED');
    });

    it('makes no read after an early unsubscribe, and closes its watcher', async () => {
      const { log, spy } = spyLog(inner);
      await inner.append(notes('a', 10));
      const sub = changeFeed(log, { batchSize: 4, pollMs: 5 }).subscribe({
        next: (e) => {
          if (e.position === 2) sub.unsubscribe();
        },
      });
      await until(() => sub.closed, 'the unsubscribe');
      const reads = spy.reads;
      for (let i = 0; i < 5; i++) {
        await inner.append([note(`b${i}`)]);
        await sleep(15);
      }
      expect(spy.reads).to.equal(reads);
      await until(() => spy.openWatchers === 0, 'the watcher to close');
    });

    it('delivers the whole log through a slow synchronous subscriber holding at most one batch', async () => {
      const { log, spy } = spyLog(inner);
      const writer = (async () => {
        for (let i = 0; i < 30; i++) await inner.append(notes(`w${i}-`, 50));
      })();
      let worstUnhandled = 0;
      const seen = await new Promise<number[]>((resolve, reject) => {
        const positions: number[] = [];
        const sub = changeFeed(log, { batchSize: 100 }).subscribe({
          next: (e) => {
            positions.push(e.position);
            worstUnhandled = Math.max(worstUnhandled, spy.eventsRead - positions.length);
            const spinUntil = performance.now() + 0.05;
            while (performance.now() < spinUntil);
            if (positions.length === 1500) {
              sub.unsubscribe();
              resolve(positions);
            }
          },
          error: reject,
        });
      });
      await writer;
      expect(seen).to.deep.equal(Array.from({ length: 1500 }, (_, i) => i + 1));
      expect(worstUnhandled).to.be.at.most(99);
    });

    it('makes an async handler pull each batch only after the previous one is handled', async () => {
      const { log, spy } = spyLog(inner);
      let handled = 0;
      let active = 0;
      let overlapped = false;
      let worstUnhandled = 0;
      const writer = (async () => {
        for (let i = 0; i < 20; i++) {
          await inner.append(notes(`w${i}-`, 25));
          await sleep(2);
        }
      })();
      const sizes: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const sub = processChanges(
          log,
          async (events) => {
            active++;
            if (active > 1) overlapped = true;
            worstUnhandled = Math.max(worstUnhandled, spy.eventsRead - handled);
            sizes.push(events.length);
            await sleep(10);
            handled += events.length;
            active--;
          },
          { batchSize: 40 },
        ).subscribe({
          next: (report) => {
            if (report.last === 500) {
              sub.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
      });
      await writer;
      expect(handled).to.equal(500);
      expect(overlapped).to.equal(false);
      expect(Math.max(...sizes)).to.be.at.most(40);
      expect(worstUnhandled).to.be.at.most(40);
    });

    it('leaves room for timers and I/O during a long catch-up', async () => {
      for (let i = 0; i < 10; i++) await inner.append(notes(`a${i}-`, 300));
      let delivered = 0;
      let deliveredWhenTimerFired = -1;
      setTimeout(() => (deliveredWhenTimerFired = delivered), 0);
      await firstN(changeFeed(inner, { batchSize: 10 }).pipe(tap(() => delivered++)), 3000);
      expect(deliveredWhenTimerFired).to.be.within(0, 2999);
    });

    it('still works by polling when the backend cannot watch', async () => {
      const { log, spy } = spyLog(inner, { withWatch: false });
      const got = firstN(changeFeed(log, { pollMs: 5 }), 3);
      await inner.append([note('a')]);
      await sleep(20);
      await inner.append([note('b'), note('c')]);
      expect((await got).map((e) => e.sid)).to.deep.equal(['a', 'b', 'c']);
      expect(spy.openWatchers).to.equal(0);
    });

    it('delivers batches of at most batchSize through changeBatches, never empty', async () => {
      await inner.append(notes('a', 250));
      const batches = await firstN(changeBatches(inner, { batchSize: 60 }), 5);
      expect(batches.map((b) => b.length)).to.deep.equal([60, 60, 60, 60, 10]);
      expect(batches.flat().map((e) => e.position)).to.deep.equal(Array.from({ length: 250 }, (_, i) => i + 1));
    });
  });
}
