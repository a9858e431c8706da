import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { openStore } from '../../src';
import type { Store } from '../../src/api/library/store';
import { tempDir } from '../helpers/temp';

const SCHEMA = { types: { user: { index: ['country', 'active'], unique: ['email'] } } };

/** The maintained counts next to what a scan of the projection tables says. */
function compare(store: Store) {
  const engine = store.projectionEngine;
  const scanned = engine.db.prepare('SELECT type, field, value, count(*) AS n FROM object_index GROUP BY type, field, value ORDER BY 1, 2, 3').all();
  const kept = engine.db.prepare('SELECT type, field, value, n FROM object_facets ORDER BY 1, 2, 3').all();
  return { types: engine.countQueries.types(), scannedTypes: engine.queries.counts(), kept, scanned };
}

describe('maintained counts (object_counts, object_facets)', function () {
  this.timeout(60_000);

  for (const backend of ['sqlite', 'file', 'memory'] as const) {
    it(`follow creates, updates, deletes and re-creates on ${backend}`, async () => {
      const dir = tempDir();
      const url = backend === 'memory' ? 'memory:' : backend === 'sqlite' ? `sqlite:${path.join(dir, 'o.db')}` : `file:${path.join(dir, 'log')}`;
      const store = await openStore(url, { schema: SCHEMA, durability: 'normal' });
      try {
        const users = store.collection('user');
        for (let i = 0; i < 30; i++) await users._new({ country: i % 3 ? 'be' : 'nl', active: i % 2 === 0, email: `${i}@x` }, { sid: `u${i}` });
        await store.collection('note')._new({ title: 'n' }, { sid: 'n1' });
        await users._update('u1', { country: 'fr' });
        await users._set({ sid: 'u2', email: '2@x' });
        await users._delete('u3');
        await users._delete('u4');
        await users._new({ country: 'nl', email: '4@x' }, { sid: 'u4' });
        await store.collection('note')._delete('n1');
        await store.catchUp();
        const counts = store.projectionEngine.countQueries;
        expect(counts.types()).to.deep.equal({ user: 29 });
        expect(counts.type('note')).to.equal(0);
        expect(counts.value('user', 'country', 'fr')).to.equal(1);
        const facet = counts.facet('user', 'country', 10, 100);
        expect(facet.values.map((v) => v.value)).to.deep.equal(['be', 'nl', 'fr']);
        expect(facet.values.reduce((a, v) => a + v.count, 0)).to.equal(28); // u2 lost its country
        const c = compare(store);
        expect(c.types).to.deep.equal(c.scannedTypes);
        expect(c.kept).to.deep.equal(c.scanned);
      } finally {
        await store.close();
      }
    });
  }

  it('stay exact across a blue-green rebuild and its swap', async () => {
    const store = await openStore(`sqlite:${path.join(tempDir(), 'o.db')}`, { schema: SCHEMA, durability: 'normal' });
    try {
      const users = store.collection('user');
      for (let i = 0; i < 50; i++) await users._new({ country: i % 2 ? 'be' : 'nl', email: `${i}@x` }, { sid: `u${i}` });
      await store.rebuild();
      await users._delete('u0');
      await users._new({ country: 'de', email: 'new@x' }, { sid: 'new' });
      await store.rebuild();
      await users._update('u1', { country: 'nl' });
      const c = compare(store);
      expect(c.types).to.deep.equal({ user: 50 });
      expect(c.types).to.deep.equal(c.scannedTypes);
      expect(c.kept).to.deep.equal(c.scanned);
      expect((await store.verify()).ok).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('are derived once when a store made before them is opened', async () => {
    const file = path.join(tempDir(), 'o.db');
    const store = await openStore(`sqlite:${file}`, { schema: SCHEMA, durability: 'normal' });
    for (let i = 0; i < 20; i++) await store.collection('user')._new({ country: i % 4 ? 'be' : 'nl', email: `${i}@x` }, { sid: `u${i}` });
    await store.close();
    const db = new Database(file);
    // Tables gone, their triggers left behind: the triggers are replaced, never doubled.
    db.exec('DROP TABLE object_counts; DROP TABLE object_facets;');
    db.close();
    const reopened = await openStore(`sqlite:${file}`, { schema: SCHEMA, durability: 'normal' });
    try {
      expect(reopened.projectionEngine.countQueries.types()).to.deep.equal({ user: 20 });
      expect(reopened.projectionEngine.countQueries.value('user', 'country', 'nl')).to.equal(5);
      await reopened.collection('user')._delete('u0');
      expect(reopened.projectionEngine.countQueries.value('user', 'country', 'nl')).to.equal(4);
      expect((await reopened.stats()).objects).to.deep.equal({ user: 19 });
      expect(reopened.projectionEngine.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").pluck().get()).to.equal(4);
    } finally {
      await reopened.close();
    }
  });

  it('are checked by verify: a tampered count is reported', async () => {
    const store = await openStore(`sqlite:${path.join(tempDir(), 'o.db')}`, { schema: SCHEMA, durability: 'normal' });
    try {
      for (let i = 0; i < 5; i++) await store.collection('user')._new({ country: 'be', email: `${i}@x` }, { sid: `u${i}` });
      store.projectionEngine.db.exec("UPDATE object_counts SET n = 7 WHERE type = 'user'; UPDATE object_facets SET n = 2 WHERE value = 'be'");
      const report = await store.verify();
      expect(report.ok).to.equal(false);
      expect(report.problems.map((p) => p.where)).to.include.members(['projection object_counts user', 'projection object_facets user.country']);
    } finally {
      await store.close();
    }
  });

  it('give facet counts over a sample of sids, and leave out fields with too many values', async () => {
    const store = await openStore('memory:', { schema: SCHEMA });
    try {
      for (let i = 0; i < 12; i++) await store.collection('user')._new({ country: i < 8 ? 'be' : 'nl', email: `${i}@x` }, { sid: `u${i}` });
      const counts = store.projectionEngine.countQueries;
      const sample = counts.facetsOf('user', ['u0', 'u1', 'u9']);
      expect(sample.get('country')).to.deep.equal([{ value: 'be', count: 2 }, { value: 'nl', count: 1 }]);
      expect(counts.facet('user', 'email', 10, 5)).to.deep.equal({ field: 'email', values: [], distinct: 6 });
    } finally {
      await store.close();
    }
  });

  it('answers filters on common values by probing the index per row, with the same pages as the sid list', async () => {
    // 'be' holds 300 of 400 objects: 300² > (limit + 1) × 400, so the probe form is chosen; the copy field
    // `land` is not indexed and is filtered by json_extract, the reference answer.
    const store = await openStore('memory:', { schema: { types: { user: { index: ['country'], unique: [] } } } });
    try {
      const users = store.collection('user');
      for (let i = 0; i < 400; i++) {
        const country = i % 4 === 0 ? 'nl' : 'be';
        await users._new({ country, land: country, tag: `t${i % 7}` }, { sid: `u${String(i).padStart(3, '0')}` });
      }
      const sql = (filter: Record<string, unknown>) => {
        const statements: string[] = [];
        const original = store.projectionEngine.db.prepare.bind(store.projectionEngine.db);
        (store.projectionEngine.db as any).prepare = (text: string) => (statements.push(text), original(text));
        return statements;
      };
      const seen = sql({});
      const pages = async (filter: Record<string, unknown>) => {
        const all: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await users._find({ filter, limit: 5, ...(cursor ? { cursor } : {}) });
          all.push(...page.items);
          cursor = page.next_cursor;
        } while (cursor && all.length < 60);
        return all;
      };
      expect(await pages({ country: 'be' })).to.deep.equal(await pages({ land: 'be' }));
      expect(await pages({ country: { in: ['be', 'nl'] }, tag: 't3' })).to.deep.equal(await pages({ land: { in: ['be', 'nl'] }, tag: 't3' }));
      expect(await pages({ country: 'nl' })).to.deep.equal(await pages({ land: 'nl' }));
      expect(seen.some((text) => text.includes('EXISTS (SELECT 1 FROM object_index'))).to.equal(true);
      expect((await users._find({ filter: { country: 'be' }, text: 't3', limit: 500 })).items).to.have.length(43);
    } finally {
      await store.close();
    }
  });
});
