import { expect } from 'chai';
import type { ProjectionTransaction, StoredEvent } from '../../src';
import type { BackendFixture } from './backends';
import { sequence } from './projection-store';
import { useStore } from './context';
import { until } from '../helpers/feed';
import { expectCode } from '../helpers/expect-error';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Named subscribers (at least once) and user projections (exactly once), with durable checkpoints. */
export function namedSubscriberCases(fixture: BackendFixture): void {
  describe('named subscribers and user projections', function () {
    this.timeout(30_000);
    const ctx = useStore(fixture);
    const write = async (count: number, prefix = 'n') => {
      const notes = ctx.store().collection('note');
      for (let i = 0; i < count; i++) await notes._new({ i }, { sid: `${prefix}${i}` });
    };

    it('resumes a named subscriber after its checkpoint when restarted', async () => {
      await write(5);
      const seen: number[] = [];
      const first = await ctx.store().subscribe('mailer', (events) => void seen.push(...events.map((e) => e.position)));
      await until(() => first.position() === 5, 'the first run to catch up');
      await first.stop();
      await write(3, 'm');
      const second = await ctx.store().subscribe('mailer', (events) => void seen.push(...events.map((e) => e.position)));
      await until(() => second.position() === 8, 'the second run');
      expect(seen).to.deep.equal(range(1, 8));
      expect((await ctx.store().stats()).subscribers).to.deep.equal({ mailer: { kind: 'subscriber', position: 8 } });
    });

    if (fixture.caps.persistent) {
      it('resumes a named subscriber where it stopped after the store is closed and reopened', async () => {
        await write(4);
        const seen: number[] = [];
        const sub = await ctx.store().subscribe('audit', async (events) => void seen.push(...events.map((e) => e.position)), { from: 2 });
        await until(() => sub.position() === 4, 'catch-up');
        await write(2, 'm');
        await until(() => sub.position() === 6, 'live events');
        const store = await ctx.reopen();
        await write(2, 'k');
        await store.subscribe('audit', async (events) => void seen.push(...events.map((e) => e.position)), { from: 1 });
        await until(() => seen.length === 7, 'the events written while it was closed');
        expect(seen).to.deep.equal(range(2, 8));
      });
    }

    it('stops on a handler error and delivers the failed batch again on restart (at least once)', async () => {
      await write(6);
      const seen: number[] = [];
      let failures = 0;
      const failing = await ctx.store().subscribe(
        'flaky',
        async (events) => {
          if (events.some((e) => e.position === 4)) throw new Error('smtp down');
          seen.push(...events.map((e) => e.position));
        },
        { batchSize: 2, onError: () => failures++ },
      );
      const error = await failing.done.catch((e: Error) => e);
      expect((error as Error).message).to.equal('smtp down');
      expect(failing.state).to.equal('failed');
      expect(failures).to.equal(1);
      expect(failing.position()).to.equal(2);
      const retry = await ctx.store().subscribe('flaky', (events) => void seen.push(...events.map((e) => e.position)), { batchSize: 2 });
      await until(() => retry.position() === 6, 'the retry');
      expect(seen).to.deep.equal(range(1, 6));
    });

    const table = fixture.projections.userTable;
    /** A handler writing each event's position into `name` through the store's own transaction. */
    const recorder = (name: string, fail?: () => boolean) => (events: StoredEvent[], tx: ProjectionTransaction) =>
      sequence([
        () => table.create(tx, name),
        ...events.map((e) => () => table.insert(tx, name, e.position)),
        () => {
          if (fail?.()) throw new Error('projection bug');
        },
      ]);
    const rowsOf = (name: string) => ctx.store().readProjections((tx) => table.positions(tx, name));

    it('applies a user projection exactly once, its writes and checkpoint in one transaction', async () => {
      await write(10);
      let calls = 0;
      const projection = await ctx.store().project('seen', recorder('t_seen', () => ++calls === 2), { batchSize: 4 });
      await projection.done.catch(() => undefined);
      expect(projection.position()).to.equal(4);
      const again = await ctx.store().project('seen', recorder('t_seen'), { batchSize: 4 });
      await until(() => again.position() === 10, 'the projection to catch up');
      await write(3, 'm');
      await until(() => again.position() === 13, 'live events');
      await again.stop();
      expect(await rowsOf('t_seen')).to.deep.equal(range(1, 13));
      expect((await ctx.store().stats()).subscribers.seen).to.deep.equal({ kind: 'projection', position: 13 });
    });

    it('keeps user projection tables and checkpoints through a rebuild', async () => {
      await write(4);
      const projection = await ctx.store().project('kept', recorder('app_kept'));
      await until(() => projection.position() === 4, 'the projection');
      await projection.stop();
      await ctx.store().rebuild();
      expect((await ctx.store().stats()).subscribers.kept).to.deep.equal({ kind: 'projection', position: 4 });
      expect(await rowsOf('app_kept')).to.deep.equal(range(1, 4));
    });

    if (fixture.projections.asyncHandlers) {
      it('awaits an async projection handler inside its transaction', async () => {
        await write(2);
        const projection = await ctx.store().project('async_one', async (events, tx: ProjectionTransaction) => {
          await new Promise((r) => setTimeout(r, 5));
          await table.create(tx, 'app_async');
          for (const e of events) await table.insert(tx, 'app_async', e.position);
        });
        await until(() => projection.position() === 2, 'the projection');
        expect(await rowsOf('app_async')).to.deep.equal([1, 2]);
      });
    } else {
      it('refuses an async projection handler and commits nothing of it', async () => {
        await write(2);
        const projection = await ctx.store().project('async_one', (async () => undefined) as never);
        const error = await projection.done.catch((e) => e);
        expect(error.code).to.equal('INVALID_INPUT');
        expect(error.message).to.match(/must be synchronous/);
        expect(projection.position()).to.equal(0);
      });
    }

    it('moves a filtered projection past other types without handing them over', async () => {
      await write(3);
      await ctx.store().collection('user')._new({ email: 'a@x' }, { sid: 'u1' });
      const types: string[] = [];
      const projection = await ctx.store().project('users_only', (events) => void types.push(...events.map((e) => e.type)), { types: ['user'] });
      await until(() => projection.position() === 4, 'the projection');
      await write(2, 'm');
      await until(() => projection.position() === 6, 'the scan past later notes');
      expect(types).to.deep.equal(['user']);
    });

    it('reports lag in positions and in ms, and none once caught up', async () => {
      await write(3);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered = false;
      const sub = await ctx.store().subscribe('slow', async () => {
        entered = true;
        await gate;
      });
      await until(() => entered, 'the handler to start');
      await new Promise((r) => setTimeout(r, 15));
      const behind = await sub.lag();
      expect(behind).to.include({ name: 'slow', kind: 'subscriber', position: 0, head: 3, events: 3 });
      expect(behind.ms).to.be.at.least(10);
      release();
      await until(() => sub.position() === 3, 'the subscriber to catch up');
      expect(await sub.lag()).to.deep.equal({ name: 'slow', kind: 'subscriber', position: 3, head: 3, events: 0, ms: 0 });
    });

    it('refuses a name already running, a name of the other kind, bad names and bad options', async () => {
      const store = ctx.store();
      const running = await store.subscribe('one', () => undefined);
      await expectCode(store.subscribe('one', () => undefined), 'INVALID_INPUT');
      await store.collection('note')._new({}, { sid: 'x' });
      await until(() => running.position() === 1, 'a checkpoint');
      await running.stop();
      const mismatch = await store.project('one', () => undefined).catch((e) => e);
      expect(mismatch.code).to.equal('INVALID_INPUT');
      expect(mismatch.message).to.match(/"one" is the name of a subscriber, not a projection/);
      await expectCode(store.subscribe('bad name', () => undefined), 'INVALID_INPUT');
      await expectCode(store.subscribe('ok', 'not a function' as never), 'INVALID_INPUT');
      await expectCode(store.subscribe('ok', () => undefined, { batchSize: -1 }), 'INVALID_INPUT');
      await expectCode(store.project('ok', () => undefined, { bogus: true } as never), 'INVALID_INPUT');
    });

    it('stops named subscribers when the store closes, keeping their checkpoints', async () => {
      await write(3);
      const sub = await ctx.store().subscribe('closer', () => undefined);
      await until(() => sub.position() === 3, 'catch-up');
      await ctx.store().close();
      await sub.done;
      expect(sub.state).to.equal('stopped');
    });
  });
}
