import { expect } from 'chai';
import { NEVER, from, map, tap, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { pullLoop, type FeedBatch } from '../../src/api/library/pull-loop';
import type { StoredEvent } from '../../src';

/** A log in virtual time: reads take `latency` frames and see the events present when they start. */
class VirtualLog {
  readonly events: StoredEvent[] = [];
  readonly reads: { at: number; from: number }[] = [];
  constructor(private readonly scheduler: TestScheduler, private readonly limit: number, private readonly latency = '-----') {}

  append(count = 1): void {
    for (let i = 0; i < count; i++) {
      const position = this.events.length + 1;
      this.events.push({ position, id: `e${position}`, type: 'note', sid: `n${position}`, kind: 'created', version: 1, ts: '', data: {} });
    }
  }

  read = (next: number): Observable<FeedBatch> => {
    this.reads.push({ at: this.scheduler.now(), from: next });
    const events = this.events.filter((e) => e.position >= next).slice(0, this.limit);
    const end = events.length > 0 ? events[events.length - 1].position + 1 : next;
    return this.scheduler.createColdObservable(`${this.latency}(a|)`, { a: { events, next: end, more: events.length === this.limit } });
  };
}

const positions = (batch: FeedBatch) => from(batch.events.map((e) => e.position));

describe('pullLoop (marble tests)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('never reads and never emits while nothing wakes it', () => {
    scheduler.run(({ expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      log.append(3);
      expectObservable(pullLoop({ from: 1, read: log.read, wake: NEVER, deliver: positions })).toBe('-');
      scheduler.flush();
      expect(log.reads).to.deep.equal([]);
    });
  });

  it('emits nothing and never completes on an empty log, reading once per wake', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      expectObservable(pullLoop({ from: 1, read: log.read, wake: hot('a-------b-------c'), deliver: positions })).toBe('-');
      scheduler.flush();
      expect(log.reads.map((r) => r.at)).to.deep.equal([0, 8, 16]);
    });
  });

  it('reads many events batch after batch without waiting while batches come back full', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const log = new VirtualLog(scheduler, 2);
      log.append(5);
      expectObservable(pullLoop({ from: 1, read: log.read, wake: hot('a'), deliver: positions })).toBe('-----(ab)-(cd)-e', {
        a: 1, b: 2, c: 3, d: 4, e: 5,
      });
      scheduler.flush();
      expect(log.reads.map((r) => [r.at, r.from])).to.deep.equal([[0, 1], [5, 3], [10, 5]]);
    });
  });

  it('starts at `from` and hands over from history to live events with no gap and no duplicate', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      log.append(3);
      const wake = hot('a---------w---------w').pipe(tap((v) => v === 'w' && log.append(2)));
      expectObservable(pullLoop({ from: 2, read: log.read, wake, deliver: positions })).toBe('-----(ab)------(cd)------(ef)', {
        a: 2, b: 3, c: 4, d: 5, e: 6, f: 7,
      });
    });
  });

  it('does not lose a wake that arrives while a read is in flight', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      const wake = hot('a-w').pipe(tap((v) => v === 'w' && log.append()));
      expectObservable(pullLoop({ from: 1, read: log.read, wake, deliver: positions })).toBe('----------a', { a: 1 });
      scheduler.flush();
      expect(log.reads.map((r) => r.at)).to.deep.equal([0, 5]);
    });
  });

  it('coalesces many wakes during a read into one more read', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      const wake = hot('awwww').pipe(tap((v) => v === 'w' && log.append()));
      expectObservable(pullLoop({ from: 1, read: log.read, wake, deliver: positions })).toBe('----------(abcd)', { a: 1, b: 2, c: 3, d: 4 });
      scheduler.flush();
      expect(log.reads.map((r) => r.at)).to.deep.equal([0, 5]);
    });
  });

  it('errors when a read errors, and reads no more', () => {
    scheduler.run(({ hot, cold, expectObservable }) => {
      let reads = 0;
      const read = () => {
        reads++;
        return cold<FeedBatch>('--#', undefined, new Error('disk on fire'));
      };
      expectObservable(pullLoop({ from: 1, read, wake: hot('a---b---c'), deliver: positions })).toBe('--#', undefined, new Error('disk on fire'));
      scheduler.flush();
      expect(reads).to.equal(1);
    });
  });

  it('errors when the delivery errors', () => {
    scheduler.run(({ hot, cold, expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      log.append(2);
      const deliver = () => cold<number>('-a#', { a: 1 }, new Error('handler failed'));
      expectObservable(pullLoop({ from: 1, read: log.read, wake: hot('a'), deliver })).toBe('------a#', { a: 1 }, new Error('handler failed'));
    });
  });

  it('errors when the wake signal errors', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const log = new VirtualLog(scheduler, 10);
      expectObservable(pullLoop({ from: 1, read: log.read, wake: hot('a-#'), deliver: positions })).toBe('--#');
    });
  });

  it('makes no read after an early unsubscribe, and drops the read in flight', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const log = new VirtualLog(scheduler, 1);
      log.append(10);
      const wake = hot('a-----------------b');
      expectObservable(pullLoop({ from: 1, read: log.read, wake, deliver: positions }), '^-------!').toBe('-----a--', { a: 1 });
      expectSubscriptions(wake.subscriptions).toBe('^-------!');
      scheduler.flush();
      expect(log.reads.map((r) => r.at)).to.deep.equal([0, 5]);
    });
  });

  it('reads the next batch only once the previous delivery has completed (backpressure)', () => {
    scheduler.run(({ hot, cold, expectObservable }) => {
      const log = new VirtualLog(scheduler, 2);
      log.append(6);
      const deliver = (batch: FeedBatch) => cold('---(a|)', { a: batch.events.length });
      expectObservable(pullLoop({ from: 1, read: log.read, wake: hot('a-b-c-d'), deliver })).toBe('--------a-------a-------a', { a: 2 });
      scheduler.flush();
      expect(log.reads.map((r) => r.at)).to.deep.equal([0, 8, 16, 24]);
    });
  });

  it('pauses between a batch and the next read when given a pause', () => {
    scheduler.run(({ hot, cold, expectObservable }) => {
      const log = new VirtualLog(scheduler, 2);
      log.append(4);
      const pause = () => cold('--(x|)');
      expectObservable(pullLoop({ from: 1, read: log.read, wake: hot('a'), deliver: positions, pause })).toBe('-----(ab)---(cd)', {
        a: 1, b: 2, c: 3, d: 4,
      });
      scheduler.flush();
      expect(log.reads.map((r) => r.at)).to.deep.equal([0, 7, 14]);
    });
  });

  it('moves past a scanned range that held no events for the consumer without delivering it', () => {
    scheduler.run(({ hot, cold, expectObservable }) => {
      const calls: number[] = [];
      const read = (next: number) => {
        calls.push(next);
        const batch: FeedBatch = next === 1 ? { events: [], next: 40, more: false } : { events: [], next, more: false };
        return cold('-(a|)', { a: batch });
      };
      let delivered = 0;
      const deliver = (batch: FeedBatch) => {
        delivered++;
        return from(batch.events).pipe(map((e) => e.position));
      };
      expectObservable(pullLoop({ from: 1, read, wake: hot('a---b'), deliver })).toBe('-');
      scheduler.flush();
      expect(calls).to.deep.equal([1, 40]);
      expect(delivered).to.equal(1);
    });
  });
});
