import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Pool } from 'pg';
import type { ProposedEvent, StoredEvent } from '../../src';
import { parseSchema } from '../../src/api/library/schema';
import { memoryBackend } from '../../src/backends/memory';
import { MemoryEventLog } from '../../src/backends/memory/memory-log';
import { quoteIdent } from '../../src/backends/postgres/projection-schema';
import { PostgresProjectionStore, type PostgresProjectionTransaction } from '../../src/backends/postgres/projection-store';
import type { OpenedBackend } from '../../src/projections/backend';
import { uniqueSpec, type StoreSchema } from '../../src/projections/config';
import { foldLog, foldParity } from '../../src/projections/fold';
import type { FilterClause, FindQuery, ReadBudget } from '../../src/projections/projection-store';
import { SCHEMA } from '../conformance/context';
import { projectionStoreCases } from '../conformance/projection-store';
import { pgUrl, postgresProjectionCaps } from './postgres/pg-fixture';

const url = pgUrl();

if (url) {
  describe('postgres projection store', () => {
    const pool = new Pool({ connectionString: url, max: 8 });
    const schemas: string[] = [];
    const storeSchema = parseSchema(SCHEMA, 'test');
    /** A new PostgreSQL schema for one test (dropped after it). */
    const freshSchema = (suffix = '') => {
      const name = `t_${randomBytes(6).toString('hex')}${suffix}`;
      schemas.push(name);
      return name;
    };
    const openStore = (name: string, schema: StoreSchema = storeSchema) => PostgresProjectionStore.open(pool, name, schema);

    afterEach(async () => {
      for (const name of schemas.splice(0)) await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
    });
    after(() => pool.end());

    const caps = postgresProjectionCaps;

    /**
     * The store paired with a memory log, wired as an after-append backend (the api's catchUp path). A
     * given `log` is the location's, kept open across opens; otherwise the backend owns a new one.
     */
    async function openPaired(name: string, kept?: MemoryEventLog): Promise<OpenedBackend> {
      const log = kept ?? new MemoryEventLog(uniqueSpec(storeSchema));
      const projections = await openStore(name);
      await projections.openLevel(log);
      return {
        log,
        projections,
        abilities: { projections: 'after-append', appliesProjections: false, sharedLog: false, persistent: false },
        files: () => [],
        async close() {
          await projections.close();
          if (!kept) await log.close();
        },
      };
    }

    projectionStoreCases({
      name: 'postgres projections (memory log)',
      caps,
      fresh: () => {
        const name = freshSchema();
        const log = new MemoryEventLog(uniqueSpec(storeSchema));
        return { open: () => openPaired(name, log) };
      },
    });

    const user = (sid: string, data: Record<string, unknown>): ProposedEvent => ({ type: 'user', sid, kind: 'created', data: { sid, ...data } });
    const q = (query: Partial<FindQuery>): FindQuery => ({ filter: [], limit: 100, ...query });

    describe('applyInAppend', () => {
      it('commits with the caller’s transaction and leaves nothing when it rolls back', async () => {
        const name = freshSchema(' "x"; drop');
        const store = await openStore(name);
        const log = new MemoryEventLog(uniqueSpec(storeSchema));
        const first = await log.append([user('a', { country: 'be', name: 'Ann' }), user('b', { country: 'nl' })]);
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          expect(await store.applyInAppend(client, first)).to.equal(true);
          const inside = await client.query(`SELECT count(*) AS n FROM ${quoteIdent(name)}.objects`);
          expect(Number(inside.rows[0].n)).to.equal(2);
          expect(await store.exists('user', 'a'), 'not visible to others before COMMIT').to.equal(false);
          await client.query('COMMIT');
          expect(await store.object('user', 'a')).to.deep.equal({ sid: 'a', country: 'be', name: 'Ann' });
          expect(await store.position()).to.equal(2);
          expect(await store.counts()).to.deep.equal({ user: 2 });
          expect((await store.find('user', q({ text: 'ann' }), false)).items).to.deep.equal(['a']);

          const second = await log.append([user('c', { country: 'be', name: 'Cid' }), { type: 'user', sid: 'a', kind: 'deleted', data: {} }]);
          await client.query('BEGIN');
          expect(await store.applyInAppend(client, second)).to.equal(true);
          await client.query('ROLLBACK');
          expect(await store.exists('user', 'c')).to.equal(false);
          expect(await store.exists('user', 'a')).to.equal(true);
          expect(await store.position()).to.equal(2);
          expect(await store.counts()).to.deep.equal({ user: 2 });
          expect(await store.countOf('user', 'country', 'be')).to.equal(1);
          expect((await store.find('user', q({ text: 'cid' }), false)).items).to.deep.equal([]);

          // Events that do not follow the checkpoint are left to catchUp, never applied over a gap.
          const third = await log.append([user('d', {})]);
          await client.query('BEGIN');
          expect(await store.applyInAppend(client, third)).to.equal(false);
          await client.query('COMMIT');
          expect(await store.position()).to.equal(2);
          await store.catchUp(log);
          expect(await store.position()).to.equal(5);
          expect(await store.counts()).to.deep.equal({ user: 3 });
          expect(await store.checkParity(await foldLog(log))).to.deep.equal([]);
        } finally {
          client.release();
        }
      });
    });

    describe('beyond the contract suite', () => {
      it('filters, counts and facets exactly as the SQLite store does, for mixed and numeric-looking values', async () => {
        const values: unknown[] = ['12', 12, ' 12 ', 12.5, '012', true, false, 0, -3, 'abc', 'Abc', 'zeta', 'é', '', '1e3', 1000, null, { a: 1 }, [1], 'x y', 'a\u0000b', 'a', { k: 'x\u0000' }, 'é\u0000'];
        const events: ProposedEvent[] = values.map((v, i) => user(`s${String(i).padStart(2, '0')}`, { country: v, age: v, free: v }));
        events.push(user('none', {}));
        const sqlite = await memoryBackend.open('memory:', { schema: storeSchema, durability: 'normal' });
        const pg = await openPaired(freshSchema());
        try {
          for (const b of [sqlite, pg]) await b.projections.catchUp(b.log, await b.log.append(events));
          const probes: unknown[] = ['12', 12, 12.0, ' 12', '012', 'abc', 'b', 'é', '', true, 0, 1000, '1e3', -10, 'zz', 'a\u0000b', 'a', 'a\u0000', 'é', '{"k":"x\\u0000"}'];
          for (const field of ['country', 'free']) {
            for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) {
              for (const value of probes) {
                const filter: FilterClause[] = [{ field, op, value }];
                const a = await sqlite.projections.find('user', q({ filter }), false);
                const b = await pg.projections.find('user', q({ filter }), false);
                expect(b.items, `${field} ${op} ${JSON.stringify(value)}`).to.deep.equal(a.items);
              }
            }
            const filter: FilterClause[] = [{ field, op: 'in', value: ['12', 'abc', true, -3, 'none'] }];
            expect((await pg.projections.find('user', q({ filter }), false)).items).to.deep.equal((await sqlite.projections.find('user', q({ filter }), false)).items);
          }
          for (const value of ['12', 12, 'abc', 1, 1000, '1e3', '']) {
            expect(await pg.projections.countOf('user', 'country', value as string | number), `countOf ${JSON.stringify(value)}`).to.equal(await sqlite.projections.countOf('user', 'country', value as string | number));
          }
          expect(await pg.projections.facet('user', 'country', 50, 100)).to.deep.equal(await sqlite.projections.facet('user', 'country', 50, 100));
          expect(await pg.projections.facet('user', 'country', 3, 5)).to.deep.equal(await sqlite.projections.facet('user', 'country', 3, 5));
          const sids = ['s00', 's01', 's02', 's09', 's10', 'none'];
          expect([...(await pg.projections.facetsOf('user', sids))]).to.deep.equal([...(await sqlite.projections.facetsOf('user', sids))]);
        } finally {
          await sqlite.close();
          await pg.close();
        }
      });

      it('maps the text query syntax like the SQLite store: words, phrases, prefixes, OR, and the same errors', async () => {
        const texts = ['the quick brown fox', 'quick thinking', 'brown bear', 'Crème brûlée', 'e-mail ann@example.com', 'foxes and hounds'];
        const events = texts.map((name, i) => user(`t${i}`, { name }));
        const sqlite = await memoryBackend.open('memory:', { schema: storeSchema, durability: 'normal' });
        const pg = await openPaired(freshSchema());
        try {
          for (const b of [sqlite, pg]) await b.projections.catchUp(b.log, await b.log.append(events));
          const queries = ['quick', 'QUICK brown', '"quick brown"', '"brown quick"', 'fox*', 'fox', 'bear OR hounds', 'creme', 'brulee', 'ann', 'example', '"e mail"', 'quick OR bear brown', 'nothing'];
          for (const text of queries) {
            const a = (await sqlite.projections.find('user', q({ text }), false)).items as string[];
            const b = (await pg.projections.find('user', q({ text }), false)).items as string[];
            expect([...b].sort(), text).to.deep.equal([...a].sort());
          }
          for (const bad of ['"open', 'OR x', 'x OR', '!!!', 'a\u0001b', 'x'.repeat(1001)]) {
            const errorOf = async (b: OpenedBackend) => b.projections.find('user', q({ text: bad }), false).then(() => 'no error', (e: Error) => `${(e as { code?: string }).code} ${e.message}`);
            expect(await errorOf(pg), JSON.stringify(bad)).to.equal(await errorOf(sqlite));
          }
        } finally {
          await sqlite.close();
          await pg.close();
        }
      });

      it('stops a page early when the byte budget runs out, with a cursor that continues it', async () => {
        const pg = await openPaired(freshSchema());
        try {
          const events = Array.from({ length: 20 }, (_, i) => user(`b${String(i).padStart(2, '0')}`, { bio: 'x'.repeat(100), name: 'same' }));
          await pg.projections.catchUp(pg.log, await pg.log.append(events));
          const budget = (bytes: number): ReadBudget => ({ bytes, scanRows: 1e9, refuse: (bound) => new Error(`refused ${bound}`) });
          const b1 = budget(500);
          const first = await pg.projections.find('user', q({ limit: 20 }), true, b1);
          expect(first.items.length).to.be.within(1, 5);
          expect(first.nextAfterSid).to.equal('b0' + (first.items.length - 1));
          const rest = await pg.projections.find('user', q({ limit: 20, afterSid: first.nextAfterSid }), true, budget(1e6));
          expect(first.items.length + rest.items.length).to.equal(20);
          const ranked = await pg.projections.find('user', q({ text: 'same', limit: 20 }), true, budget(300));
          expect(ranked.items.length).to.be.within(1, 3);
          expect(ranked.nextOffset).to.equal(ranked.items.length);
          let refused: unknown;
          await pg.projections.find('user', q({}), false, budget(0)).catch((e) => (refused = e));
          expect((refused as Error).message).to.equal('refused bytes');
        } finally {
          await pg.close();
        }
      });

      it('rebuilds at open after invalidate (a second store object on the same schema), once, to the same answers', async () => {
        const name = freshSchema();
        const log = new MemoryEventLog(uniqueSpec(storeSchema));
        const store = await openStore(name);
        await store.catchUp(log, await log.append([user('a', { country: 'be', name: 'zeta' }), user('b', { country: 'nl' })]));
        await store.catchUp(log, await log.append([{ type: 'user', sid: 'b', kind: 'deleted', data: {} }, user('c', { country: 'be' })]));
        const before = await store.find('user', q({}), true);
        await store.invalidate();
        expect(await store.position()).to.equal(0);
        const [one, two] = await Promise.all([openStore(name), openStore(name)]);
        const readAll = log.readAll.bind(log);
        let folds = 0;
        log.readAll = (from, options) => {
          if (from === 1) folds++;
          return readAll(from, options);
        };
        await Promise.all([one.openLevel(log), two.openLevel(log)]);
        expect(folds, 'the log was folded from the start once').to.equal(1);
        expect(await one.position()).to.equal(4);
        expect(await one.find('user', q({}), true)).to.deep.equal(before);
        expect((await one.find('user', q({ text: 'zeta' }), false)).items).to.deep.equal(['a']);
        expect(await one.counts()).to.deep.equal({ user: 2 });
        expect(await one.countOf('user', 'country', 'be')).to.equal(2);
        expect(await one.checkParity(await foldLog(log))).to.deep.equal([]);
        expect((await one.rebuild(log)).parity).to.equal(foldParity(await foldLog(log)));
      });

      it('applies each event once when several hosts catch up one log at the same time', async () => {
        const name = freshSchema();
        const log = new MemoryEventLog(uniqueSpec(storeSchema));
        const hosts = await Promise.all([openStore(name), openStore(name), openStore(name)]);
        for (let round = 0; round < 5; round++) {
          const events = Array.from({ length: 40 }, (_, i) => user(`h${round}_${i}`, { country: ['be', 'nl'][i % 2], name: `n${i}` }));
          events.push({ type: 'user', sid: `h${round}_0`, kind: 'updated', data: { sid: `h${round}_0`, country: 'fr' } });
          const stored = await log.append(events);
          await Promise.all(hosts.map((h, i) => h.catchUp(log, i === 0 ? stored : undefined)));
        }
        expect(await hosts[2].position()).to.equal(205);
        expect(await hosts[1].counts()).to.deep.equal({ user: 200 });
        expect(await hosts[0].countOf('user', 'country', 'fr')).to.equal(5);
        expect(await hosts[0].checkParity(await foldLog(log))).to.deep.equal([]);
      });

      it('rebuilds beside live appends: writes during the rebuild land in the swapped-in tables', async () => {
        const name = freshSchema();
        const log = new MemoryEventLog(uniqueSpec(storeSchema));
        const store = await openStore(name);
        const writer = await openStore(name);
        await store.catchUp(log, await log.append(Array.from({ length: 3000 }, (_, i) => user(`r${i}`, { country: 'be', name: `w${i % 7}` }))));
        let writing = true;
        let appended = 0;
        const writes = (async () => {
          while (writing) {
            const stored = await log.append([user(`live${appended}`, { country: 'nl' })]);
            appended++;
            await writer.catchUp(log, stored);
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        })();
        const result = await store.rebuild(log);
        writing = false;
        await writes;
        await store.catchUp(log);
        expect(appended).to.be.greaterThan(0);
        // The parity is the fold's (its `events` of a gapless log), checked before the catch-up inside the swap.
        expect(result.parity).to.equal(foldParity(await foldLog(log, { position: result.events })));
        expect(result.position).to.be.at.least(result.events);
        expect(await store.position()).to.equal(3000 + appended);
        expect(await store.counts()).to.deep.equal({ user: 3000 + appended });
        expect(await store.countOf('user', 'country', 'nl')).to.equal(appended);
        expect(await store.checkParity(await foldLog(log))).to.deep.equal([]);
      });

      it('runs a user projection once when two hosts hand it the same batch at the same time', async () => {
        const name = freshSchema();
        const log = new MemoryEventLog(uniqueSpec(storeSchema));
        const [one, two] = await Promise.all([openStore(name), openStore(name)]);
        const stored: StoredEvent[] = await log.append([user('a', {}), user('b', {}), user('c', {})]);
        const seen: number[] = [];
        const handler = async (events: StoredEvent[], tx: PostgresProjectionTransaction) => {
          await tx.client.query('CREATE TABLE IF NOT EXISTS app_once (position bigint)');
          await new Promise((resolve) => setTimeout(resolve, 50));
          for (const e of events) {
            seen.push(e.position);
            await tx.client.query('INSERT INTO app_once VALUES ($1)', [e.position]);
          }
        };
        await one.project('once', [], 0, handler); // its checkpoint row exists before the race (the race without it is covered by INSERT … ON CONFLICT DO NOTHING)
        const results = await Promise.all([one.project('once', stored, 3, handler), two.project('once', stored, 3, handler)]);
        expect(results).to.deep.equal([3, 3]);
        expect(seen).to.deep.equal([1, 2, 3]);
        expect(await one.read(async (tx) => Number((await tx.client.query('SELECT count(*) AS n FROM app_once')).rows[0].n))).to.equal(3);
        let readOnly: unknown;
        await one.read(async (tx) => tx.client.query('INSERT INTO app_once VALUES (9)')).catch((e) => (readOnly = e));
        expect((readOnly as Error).message).to.match(/read-only/);
      });

      it('keeps stored JSON byte for byte (key order, unicode, U+0000) and finds it by a field without an index', async () => {
        const pg = await openPaired(freshSchema());
        try {
          const data = { z: 1, a: 'é\u0000\ud83d\ude00', nested: { b: [1, 2, { c: null }], a: true }, big: 1e21, neg: -0.5 };
          await pg.projections.catchUp(pg.log, await pg.log.append([user('j', data)]));
          const got = await pg.projections.object('user', 'j');
          expect(JSON.stringify(got)).to.equal(JSON.stringify({ sid: 'j', ...data }));
          expect((await pg.projections.find('user', q({ filter: [{ field: 'a', op: 'eq', value: 'é\u0000\ud83d\ude00' }] }), false)).items).to.deep.equal(['j']);
          expect(await pg.projections.checkParity(await foldLog(pg.log))).to.deep.equal([]);
        } finally {
          await pg.close();
        }
      });
    });
  });
}
