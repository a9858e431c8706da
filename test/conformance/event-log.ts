import { expect } from 'chai';
import type { EventLog, ProposedEvent, UniqueSpec } from '../../src';
import { expectCode } from '../helpers/expect-error';

/** What a log can do, declared as data: the suite picks cases from these, never from the name. */
export interface LogCaps {
  /** The log implements the optional `readAllEncoded` (events with their data as stored text). */
  encodedReads: boolean;
}

/**
 * How the log suite gets a fresh, empty log: a factory, so a new backend's `EventLog` can be tested
 * before it is wired into the api (as emmett's `testAggregateStream` takes an event store).
 */
export interface LogFixture {
  name: string;
  caps: LogCaps;
  /** A new, empty log enforcing `unique`. */
  openLog(unique: UniqueSpec): Promise<EventLog>;
}

/** The unique fields the cases rely on. */
export const LOG_UNIQUE: UniqueSpec = { user: ['email'] };

const created = (sid: string, data: Record<string, unknown> = {}): ProposedEvent => ({
  type: 'user',
  sid,
  kind: 'created',
  data: { sid, ...data },
});

/** The EventLog contract itself, below the collection API. */
export function eventLogCases(fixture: LogFixture): void {
  describe(`EventLog contract: ${fixture.name}`, () => {
    let backend: { log: EventLog };
    beforeEach(async () => {
      backend = { log: await fixture.openLog(LOG_UNIQUE) };
    });
    afterEach(async () => backend.log.close());

    it('appends a batch atomically: one bad event rejects the whole batch', async () => {
      const log = backend.log;
      await log.append([created('a')]);
      await expectCode(log.append([created('b'), created('c'), created('a')]), 'VERSION_CONFLICT');
      expect(await log.head()).to.equal(1);
      expect(await log.readStream('user', 'b')).to.deep.equal([]);
      const batch = await log.append([created('b'), { type: 'user', sid: 'b', kind: 'updated', data: { sid: 'b', x: 1 } }]);
      expect(batch.map((e) => [e.sid, e.version])).to.deep.equal([['b', 1], ['b', 2]]);
    });

    it('rejects a batch that breaks a unique key within itself', async () => {
      await expectCode(backend.log.append([created('a', { email: 'e' }), created('b', { email: 'e' })]), 'UNIQUE_VIOLATION');
      expect(await backend.log.head()).to.equal(0);
    });

    it('assigns strictly increasing positions that failed appends never consume twice', async () => {
      const log = backend.log;
      const seen: number[] = [];
      for (let i = 0; i < 20; i++) {
        const [event] = await log.append([created(`s${i}`)]);
        seen.push(event.position);
        await log.append([created(`s${i}`)]).catch(() => undefined);
      }
      expect(new Set(seen).size).to.equal(20);
      expect(seen.every((p, i) => i === 0 || p > seen[i - 1])).to.equal(true);
      const all = await log.readAll(0);
      expect(all.map((e) => e.position)).to.deep.equal(seen);
    });

    it('checks each expected-version form', async () => {
      const log = backend.log;
      await expectCode(log.append([{ ...created('a'), expectedVersion: 'exists' }]), 'NOT_FOUND');
      await log.append([{ ...created('a'), expectedVersion: 'no_stream' }]);
      const update = (expectedVersion: ProposedEvent['expectedVersion']): ProposedEvent => ({
        type: 'user', sid: 'a', kind: 'updated', data: { sid: 'a' }, expectedVersion,
      });
      await expectCode(log.append([update('no_stream')]), 'VERSION_CONFLICT');
      await expectCode(log.append([update(7)]), 'VERSION_CONFLICT');
      await log.append([update(1)]);
      await log.append([update('exists')]);
      await log.append([update('any')]);
      expect(await log.streamState('user', 'a')).to.deep.equal({ version: 4, exists: true });
    });

    it('reads all from a position, with a limit and a type filter', async () => {
      const log = backend.log;
      await log.append([created('a'), created('b'), { type: 'note', sid: 'n', kind: 'created', data: { sid: 'n' } }, created('c')]);
      expect((await log.readAll(2)).map((e) => e.sid)).to.deep.equal(['b', 'n', 'c']);
      expect((await log.readAll(2, { limit: 2 })).map((e) => e.sid)).to.deep.equal(['b', 'n']);
      expect((await log.readAll(0, { types: ['note'] })).map((e) => e.sid)).to.deep.equal(['n']);
      expect(await log.readAll(99)).to.deep.equal([]);
    });

    const encoded = fixture.caps.encodedReads ? it : undefined;
    encoded?.('reads encoded events equal to the decoded ones (declared encodedReads)', async () => {
      const log = backend.log;
      expect(log.readAllEncoded, 'a backend declaring encodedReads implements readAllEncoded').to.be.a('function');
      await log.append([created('a', { n: 1, tags: ['x'], nested: { k: 'ü "q"' } }), { type: 'note', sid: 'n', kind: 'created', data: { sid: 'n' } }]);
      await log.append([{ type: 'user', sid: 'a', kind: 'deleted', data: {} }, created('b')]);
      const decoded = (await log.readAll(0)).map((e) => ({
        position: e.position, type: e.type, sid: e.sid, kind: e.kind, version: e.version, ts: Date.parse(e.ts), data: e.data,
      }));
      const encodedEvents = await log.readAllEncoded!(0);
      expect(encodedEvents.every((e) => typeof e.data === 'string')).to.equal(true);
      const decode = log.decodeEncodedData ? (text: string) => log.decodeEncodedData!(text) : (text: string) => JSON.parse(text);
      expect(encodedEvents.map((e) => ({ ...e, data: decode(e.data) }))).to.deep.equal(decoded);
      if (!log.decodeEncodedData) expect(encodedEvents.map((e) => e.data)).to.deep.equal(decoded.map((e) => JSON.stringify(e.data)));
      expect((await log.readAllEncoded!(2, { limit: 2 })).map((e) => e.position)).to.deep.equal([2, 3]);
      expect((await log.readAllEncoded!(0, { types: ['note'] })).map((e) => e.sid)).to.deep.equal(['n']);
      expect(await log.readAllEncoded!(99)).to.deep.equal([]);
    });

    it('returns events that later appends and callers cannot mutate', async () => {
      const [event] = await backend.log.append([created('a', { tags: ['x'] })]);
      (event.data.tags as string[]).push('mutated');
      const [read] = await backend.log.readStream('user', 'a');
      expect(read.data).to.deep.equal({ sid: 'a', tags: ['x'] });
    });

    it('fails every call after close with CLOSED', async () => {
      await backend.log.close();
      await expectCode(backend.log.head(), 'CLOSED');
      await expectCode(backend.log.append([created('z')]), 'CLOSED');
    });
  });
}
