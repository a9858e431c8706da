import { expect } from 'chai';
import { openBackend } from '../../src/api/library/backends';
import { parseSchema } from '../../src/api/library/schema';
import type { ProposedEvent, StoredEvent } from '../../src';
import type { BackendFixture } from './backends';
import { SCHEMA, useStore } from './context';
import { firstN, until } from '../helpers/feed';

const note = (sid: string): ProposedEvent => ({ type: 'note', sid, kind: 'created', data: { sid } });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The change feed through the Store API, and the EventLog.watch capability when a backend has it. */
export function changeFeedCases(fixture: BackendFixture): void {
  describe('change feed', function () {
    this.timeout(30_000);
    const ctx = useStore(fixture);

    it('emits nothing on an empty log, then the first event once it is written', async () => {
      const seen: StoredEvent[] = [];
      const sub = ctx.store().changes().subscribe((e) => seen.push(e));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).to.deep.equal([]);
      await ctx.store().collection('note')._new({ body: 'first' }, { sid: 'n1' });
      await until(() => seen.length === 1, 'the first event');
      sub.unsubscribe();
      expect(seen[0]).to.include({ position: 1, type: 'note', sid: 'n1', kind: 'created', version: 1 });
      expect(seen[0].data).to.deep.equal({ sid: 'n1', body: 'first' });
    });

    it('delivers many events in order, exactly once, in batches of at most batchSize', async () => {
      for (let i = 0; i < 10; i++) await ctx.store().eventLog.append(Array.from({ length: 250 }, (_, j) => note(`n${i}-${j}`)));
      const batches = await firstN(ctx.store().changeBatches({ batchSize: 300 }), 9);
      expect(Math.max(...batches.map((b) => b.length))).to.be.at.most(300);
      expect(batches.flat().map((e) => e.position)).to.deep.equal(range(1, 2500));
    });

    it('hands over from history to live events with no gap and no duplicate while writers race', async () => {
      const store = ctx.store();
      const write = async (prefix: string, count: number) => {
        for (let i = 0; i < count; i++) await store.collection('note')._new({ i }, { sid: `${prefix}${i}` });
      };
      await write('h', 30);
      const writers = Promise.all([write('a', 60), write('b', 60), write('c', 60)]);
      const received = firstN(store.changes({ from: 1, batchSize: 7 }), 210);
      await writers;
      const events = await received;
      expect(events.map((e) => e.position)).to.deep.equal(range(1, 210));
      expect(new Set(events.map((e) => e.sid)).size).to.equal(210);
    });

    it('starts at `from`, filters by type across the seam, and waits beyond the head', async () => {
      const store = ctx.store();
      await store.collection('note')._new({}, { sid: 'n1' });
      await store.collection('user')._new({ email: 'a@x' }, { sid: 'u1' });
      await store.collection('note')._new({}, { sid: 'n2' });
      const notes = firstN(store.changes({ from: 2, types: ['note'] }), 3);
      const beyond = firstN(store.changes({ from: 6 }), 1);
      await store.collection('user')._new({ email: 'b@x' }, { sid: 'u2' });
      await store.collection('note')._new({}, { sid: 'n3' });
      await store.collection('note')._new({}, { sid: 'n4' });
      expect((await notes).map((e) => [e.position, e.sid])).to.deep.equal([[3, 'n2'], [5, 'n3'], [6, 'n4']]);
      expect((await beyond).map((e) => e.sid)).to.deep.equal(['n4']);
    });

    it('completes live feeds when the store closes', async () => {
      const completed = new Promise<void>((resolve, reject) => ctx.store().changes().subscribe({ complete: resolve, error: reject }));
      await ctx.store().close();
      await completed;
    });

    it('refuses bad feed options precisely', () => {
      const store = ctx.store();
      const bad: [unknown, RegExp][] = [
        [{ form: 1 }, /unknown change feed option "form"/],
        [{ from: -1 }, /from must be an integer/],
        [{ from: 1.5 }, /from must be an integer/],
        [{ batchSize: 0 }, /batchSize must be an integer from 1/],
        [{ pollMs: 'fast' }, /pollMs must be an integer/],
        [{ types: 'note' }, /types must be an array/],
        [{ types: ['Bad-Type'] }, /invalid type name "Bad-Type"/],
      ];
      for (const [options, message] of bad) {
        expect(() => store.changes(options as never), JSON.stringify(options)).to.throw(message).with.property('code', 'INVALID_INPUT');
      }
    });

    if (!fixture.caps.watch) return;
    describe('EventLog.watch', () => {
      it('signals an append through the same log at once, without waiting for a poll', async () => {
        const backend = await openBackend(fixture.freshUrl(), { schema: parseSchema(SCHEMA, 'test'), durability: 'normal' });
        try {
          let signals = 0;
          const watcher = await backend.log.watch!(() => signals++, { intervalMs: 60_000 });
          await backend.log.append([note('a')]);
          await until(() => signals > 0, 'a signal');
          await watcher.close();
          const after = signals;
          await backend.log.append([note('b')]);
          await new Promise((r) => setTimeout(r, 20));
          expect(signals).to.equal(after);
        } finally {
          await backend.close();
        }
      });

      it('ends its watchers with CLOSED when the log closes', async () => {
        const backend = await openBackend(fixture.freshUrl(), { schema: parseSchema(SCHEMA, 'test'), durability: 'normal' });
        let ended: unknown;
        await backend.log.watch!(() => undefined, { onError: (error) => (ended = error) });
        await backend.close();
        await until(() => ended !== undefined, 'the watcher to end');
        expect(ended).to.have.property('code', 'CLOSED');
      });

      if (fixture.caps.multiProcess) {
        it("signals another writer's commit on the same store", async () => {
          const url = fixture.freshUrl();
          const schema = parseSchema(SCHEMA, 'test');
          const reader = await openBackend(url, { schema, durability: 'normal' });
          const writer = await openBackend(url, { schema, durability: 'normal' });
          try {
            let signals = 0;
            await reader.log.watch!(() => signals++, { intervalMs: 10 });
            await writer.log.append([note('a')]);
            await until(() => signals > 0, "a signal of the other writer's commit");
            const [event] = await reader.log.readAll(1);
            expect(event.sid).to.equal('a');
          } finally {
            await writer.close();
            await reader.close();
          }
        });
      }
    });
  });
}
