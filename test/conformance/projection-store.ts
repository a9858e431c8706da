import { expect } from 'chai';
import type { ProjectionTransaction, ProposedEvent, StoredEvent } from '../../src';
import { openBackend } from '../../src/api/library/backends';
import { parseSchema } from '../../src/api/library/schema';
import type { OpenedBackend } from '../../src/projections/backend';
import { foldLog, foldParity } from '../../src/projections/fold';
import type { FindQuery, ObjectRecord } from '../../src/projections/projection-store';
import { SCHEMA } from './context';

/**
 * What a projection store can do and how a user projection writes in its transaction, declared as data:
 * the suite picks its cases from these, never from the name.
 */
export interface ProjectionCaps {
  /** The `kind` of the store's `ProjectionTransaction` ('sqlite', 'postgres'). */
  transaction: string;
  /** Data survives close and reopen of the store URL. */
  persistent: boolean;
  /** Whether a user projection's handler may be async (PostgreSQL); SQLite's must be synchronous. */
  asyncHandlers: boolean;
  /** A user table through the store's transaction: create it, add a row, count rows, list them. */
  userTable: {
    create(tx: ProjectionTransaction, table: string): void | Promise<void>;
    insert(tx: ProjectionTransaction, table: string, position: number): void | Promise<void>;
    count(tx: ProjectionTransaction, table: string): number | Promise<number>;
    positions(tx: ProjectionTransaction, table: string): number[] | Promise<number[]>;
  };
}

/** How the projection suite gets a fresh store: a location it can open (and, when persistent, reopen). */
export interface ProjectionFixture {
  name: string;
  caps: ProjectionCaps;
  /** A new, empty location; each `open()` opens it (a log and a projection store, wired as a backend does). */
  fresh(): { open(): Promise<OpenedBackend> };
}

/** The fixture of a backend reached by store URL through the api's backend registry. */
export function projectionFixtureOfUrl(name: string, caps: ProjectionCaps, freshUrl: () => string): ProjectionFixture {
  return {
    name,
    caps,
    fresh: () => {
      const url = freshUrl();
      return { open: () => openBackend(url, { schema: parseSchema(SCHEMA, 'test'), durability: 'normal' }) };
    },
  };
}

const user = (sid: string, data: Record<string, unknown>): ProposedEvent => ({ type: 'user', sid, kind: 'created', data: { sid, ...data } });
const update = (sid: string, data: Record<string, unknown>): ProposedEvent => ({ type: 'user', sid, kind: 'updated', data: { sid, ...data } });
const remove = (sid: string): ProposedEvent => ({ type: 'user', sid, kind: 'deleted', data: {} });
const query = (q: Partial<FindQuery>): FindQuery => ({ filter: [], limit: 100, ...q });

/** Run steps in order: synchronously while they return plain values (a SQLite handler), chained once one returns a promise. */
export function sequence(steps: Array<() => unknown>): unknown {
  for (let i = 0; i < steps.length; i++) {
    const result = steps[i]();
    if (result instanceof Promise) return result.then(() => sequence(steps.slice(i + 1)));
  }
  return undefined;
}

/**
 * The `ProjectionStore` contract (src/projections/projection-store.ts), run unchanged against every
 * projection store through its backend: events go in through the log, everything else through the
 * contract's methods only. The schema is `SCHEMA` (test/conformance/context.ts): `user` with index
 * `country`, `age`, unique `email`, text `name`, `bio`.
 */
export function projectionStoreCases(fixture: ProjectionFixture): void {
  describe(`ProjectionStore contract: ${fixture.name}`, () => {
    let backend: OpenedBackend;
    let location: { open(): Promise<OpenedBackend> };
    const open = () => location.open();
    /** Append, then do what the api does after an append when the backend leaves it to the api. */
    const append = async (events: ProposedEvent[]): Promise<StoredEvent[]> => {
      const stored = await backend.log.append(events);
      if (!backend.abilities.appliesProjections) await backend.projections.catchUp(backend.log, stored);
      else if (backend.abilities.sharedLog) await backend.projections.catchUp(backend.log);
      return stored;
    };

    beforeEach(async () => {
      location = fixture.fresh();
      backend = await open();
    });
    afterEach(async () => backend.close());

    it('reflects every appended event once it is acknowledged, with its checkpoint (read your writes)', async () => {
      await append([user('a', { country: 'be', name: 'Ann' }), user('b', { country: 'nl' })]);
      await append([update('a', { country: 'fr', name: 'Ann' }), remove('b')]);
      const p = backend.projections;
      expect(await p.object('user', 'a')).to.deep.equal({ sid: 'a', country: 'fr', name: 'Ann' });
      const record = await p.get('user', 'a');
      expect(record).to.include({ version: 2, position: 3 });
      expect(Date.parse(record!.created_at)).to.be.a('number').and.not.NaN;
      expect(await p.exists('user', 'b')).to.equal(false);
      expect(await p.get('user', 'b')).to.equal(undefined);
      expect(await p.position()).to.equal(await backend.log.head());
      expect((await p.checkpoints()).objects).to.equal(4);
    });

    it('applies each event exactly once: catching up again, or with events it already has, changes nothing', async () => {
      const stored = await append([user('a', { country: 'be' }), user('b', { country: 'be' })]);
      await backend.projections.catchUp(backend.log, stored);
      await backend.projections.catchUp(backend.log);
      expect(await backend.projections.counts()).to.deep.equal({ user: 2 });
      expect(await backend.projections.countOf('user', 'country', 'be')).to.equal(2);
      expect((await backend.projections.get('user', 'a'))!.version).to.equal(1);
    });

    it('finds by filter in sid order with cursors, and lists a type', async () => {
      for (let i = 0; i < 30; i++) await append([user(`u${String(i).padStart(2, '0')}`, { country: i % 3 === 0 ? 'be' : 'nl', age: i })]);
      const p = backend.projections;
      const be = await p.find('user', query({ filter: [{ field: 'country', op: 'eq', value: 'be' }] }), false);
      expect(be.items).to.deep.equal(['u00', 'u03', 'u06', 'u09', 'u12', 'u15', 'u18', 'u21', 'u24', 'u27']);
      const first = await p.find('user', query({ filter: [{ field: 'age', op: 'gte', value: 20 }], limit: 4 }), false);
      expect(first.items).to.deep.equal(['u20', 'u21', 'u22', 'u23']);
      const next = await p.find('user', query({ filter: [{ field: 'age', op: 'gte', value: 20 }], limit: 4, afterSid: first.nextAfterSid }), false);
      expect(next.items).to.deep.equal(['u24', 'u25', 'u26', 'u27']);
      const some = await p.find('user', query({ filter: [{ field: 'age', op: 'in', value: [1, 2, 99] }] }), true);
      expect(some.items.map((r) => (r as ObjectRecord).object.sid)).to.deep.equal(['u01', 'u02']);
      expect((await p.find('user', query({ limit: 1000 }), false)).items).to.have.length(30);
    });

    it('ranks full-text matches, pages them by offset, and indexes a write before a text query sees the store', async () => {
      await append([user('a', { name: 'alpha beta' }), user('b', { name: 'alpha alpha alpha' }), user('c', { bio: 'gamma' })]);
      const p = backend.projections;
      const ranked = await p.find('user', query({ text: 'alpha' }), false);
      expect(ranked.items).to.deep.equal(['b', 'a']);
      const page = await p.find('user', query({ text: 'alpha', limit: 1 }), false);
      expect(page.items).to.deep.equal(['b']);
      expect((await p.find('user', query({ text: 'alpha', limit: 1, offset: page.nextOffset }), false)).items).to.deep.equal(['a']);
      await append([update('c', { bio: 'gamma alpha' })]);
      expect((await p.find('user', query({ text: 'alpha' }), false)).items).to.have.members(['a', 'b', 'c']);
    });

    it('gives full-text matches unranked in creation order when asked (a sample that costs only its page), with filters and offsets', async () => {
      await append([user('c', { name: 'alpha beta gamma delta', country: 'be' }), user('a', { name: 'alpha alpha alpha', country: 'nl' }), user('b', { name: 'alpha', country: 'be' })]);
      await append([user('d', { bio: 'gamma' })]);
      const p = backend.projections;
      expect((await p.find('user', query({ text: 'alpha' }), false)).items, 'ranked').to.deep.equal(['a', 'b', 'c']);
      expect((await p.find('user', query({ text: 'alpha', unranked: true }), false)).items, 'unranked').to.deep.equal(['c', 'a', 'b']);
      const first = await p.find('user', query({ text: 'alpha', unranked: true, limit: 2 }), false);
      expect(first.items).to.deep.equal(['c', 'a']);
      const rest = await p.find('user', query({ text: 'alpha', unranked: true, limit: 2, offset: first.nextOffset }), false);
      expect(rest).to.deep.equal({ items: ['b'] });
      const filtered = await p.find('user', query({ text: 'alpha', unranked: true, filter: [{ field: 'country', op: 'eq', value: 'be' }] }), false);
      expect(filtered.items).to.deep.equal(['c', 'b']);
    });

    it('answers a page as of a log position or a moment (at), without touching the live tables', async () => {
      await append([user('a', { country: 'be' })]);
      await append([update('a', { country: 'nl' }), user('b', { country: 'be' })]);
      const at1 = await backend.projections.findAt(backend.log, { position: 1 }, 'user', query({ filter: [{ field: 'country', op: 'eq', value: 'be' }] }), true);
      expect(at1.items.map((r) => (r as { object: unknown }).object)).to.deep.equal([{ sid: 'a', country: 'be' }]);
      const now = await backend.projections.find('user', query({ filter: [{ field: 'country', op: 'eq', value: 'be' }] }), false);
      expect(now.items).to.deep.equal(['b']);
    });

    it('keeps history-independent counts and facets: the same objects give the same counts whatever the path', async () => {
      await append([user('a', { country: 'be' }), user('b', { country: 'nl' }), user('c', { country: 'be' })]);
      await append([update('a', { country: 'nl' }), remove('c'), user('c', { country: 'fr' }), update('b', { country: 'be' })]);
      const p = backend.projections;
      const other = await fixture.fresh().open();
      try {
        const direct = [user('a', { country: 'nl' }), user('b', { country: 'be' }), user('c', { country: 'fr' })];
        const stored = await other.log.append(direct);
        if (!other.abilities.appliesProjections) await other.projections.catchUp(other.log, stored);
        else await other.projections.catchUp(other.log);
        expect(await p.counts()).to.deep.equal(await other.projections.counts()).and.deep.equal({ user: 3 });
        for (const value of ['be', 'nl', 'fr']) expect(await p.countOf('user', 'country', value)).to.equal(1);
        expect(await p.facet('user', 'country', 10, 100)).to.deep.equal(await other.projections.facet('user', 'country', 10, 100));
        expect((await p.facetsOf('user', ['a', 'b'])).get('country')).to.deep.equal([{ value: 'be', count: 1 }, { value: 'nl', count: 1 }]);
      } finally {
        await other.close();
      }
    });

    it('rebuilds blue-green with a parity hash equal to an independent fold, and checks parity against a fold', async () => {
      for (let i = 0; i < 40; i++) await append([user(`u${i}`, { country: i % 2 ? 'be' : 'nl', name: `n${i}` })]);
      await append([remove('u3'), update('u4', { country: 'fr' })]);
      const before = await backend.projections.find('user', query({ limit: 1000 }), true);
      const result = await backend.projections.rebuild(backend.log);
      const folded = await foldLog(backend.log);
      expect(result).to.include({ events: 42, objects: 39, position: 42 });
      expect(result.parity).to.equal(foldParity(folded));
      expect(await backend.projections.find('user', query({ limit: 1000 }), true)).to.deep.equal(before);
      expect(await backend.projections.checkParity(folded)).to.deep.equal([]);
      const stale = await foldLog(backend.log, { position: 41 });
      expect((await backend.projections.checkParity(stale)).map((p) => p.where)).to.include('projection objects');
    });

    const persistent = fixture.caps.persistent ? it : undefined;
    persistent?.('rebuilds at open after its checkpoints were invalidated, to the same answers', async () => {
      await append([user('a', { country: 'be', name: 'zeta' }), user('b', { country: 'nl' })]);
      await backend.projections.invalidate();
      await backend.close();
      backend = await open();
      expect(await backend.projections.position()).to.equal(2);
      expect((await backend.projections.find('user', query({ text: 'zeta' }), false)).items).to.deep.equal(['a']);
      expect(await backend.projections.counts()).to.deep.equal({ user: 2 });
    });

    it('keeps subscriber checkpoints that only move forward', async () => {
      const p = backend.projections;
      expect(await p.subscriberCheckpoint('mailer')).to.equal(undefined);
      await p.saveSubscriberCheckpoint('mailer', 'subscriber', 5);
      await p.saveSubscriberCheckpoint('mailer', 'subscriber', 3);
      await p.saveSubscriberCheckpoint('audit', 'subscriber', 1);
      expect(await p.subscriberCheckpoint('mailer')).to.include({ name: 'mailer', kind: 'subscriber', position: 5 });
      expect((await p.subscriberCheckpoints()).map((c) => [c.name, c.position])).to.deep.equal([['audit', 1], ['mailer', 5]]);
    });

    it("runs a user projection in the store's own transaction: events past its checkpoint only, all or nothing", async () => {
      const p = backend.projections;
      const table = fixture.caps.userTable;
      const stored = await append([user('a', {}), user('b', {}), user('c', {})]);
      const seen: number[][] = [];
      const run = (events: StoredEvent[], through: number, fail = false) =>
        p.project('tally', events, through, (events, tx) =>
          sequence([
            () => expect(tx).to.include({ kind: fixture.caps.transaction, name: 'tally' }),
            () => seen.push(events.map((e) => e.position)),
            () => table.create(tx, 'app_tally'),
            ...events.map((e) => () => table.insert(tx, 'app_tally', e.position)),
            () => {
              if (fail) throw new Error('boom');
            },
          ]),
        );
      expect(await run(stored.slice(0, 2), 2)).to.equal(2);
      expect(await run(stored, 3)).to.equal(3);
      expect(seen).to.deep.equal([[1, 2], [3]]);
      const more = await append([user('d', {})]);
      let failure: unknown;
      await run(more, 4, true).catch((error) => (failure = error));
      expect(failure).to.be.an('error');
      expect((await p.subscriberCheckpoint('tally'))!.position).to.equal(3);
      expect(await p.read((tx) => table.count(tx, 'app_tally'))).to.equal(3);
      expect(await run(more, 4)).to.equal(4);
      expect(await p.read((tx) => table.count(tx, 'app_tally'))).to.equal(4);
    });
  });
}
