import { expect } from 'chai';
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { openStore } from '../../src';
import type { Store } from '../../src/api/store';
import { tempDir } from '../helpers/temp';

const SCHEMA = { types: { user: { index: ['country', 'active'], unique: ['email'] } } };

/** The maintained counts next to what a scan of the projection tables says. */
function compare(store: Store) {
  const engine = store.projectionEngine;
  const scanned = engine.db.prepare('SELECT type, field, value, count(*) AS n FROM object_index GROUP BY type, field, value ORDER BY 1, 2, 3').all();
  const kept = engine.db.prepare('SELECT type, field, value, n FROM object_facets ORDER BY 1, 2, 3').all();
  return { types: engine.counts.types(), scannedTypes: engine.queries.counts(), kept, scanned };
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
        const counts = store.projectionEngine.counts;
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
      expect(reopened.projectionEngine.counts.types()).to.deep.equal({ user: 20 });
      expect(reopened.projectionEngine.counts.value('user', 'country', 'nl')).to.equal(5);
      await reopened.collection('user')._delete('u0');
      expect(reopened.projectionEngine.counts.value('user', 'country', 'nl')).to.equal(4);
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
      const counts = store.projectionEngine.counts;
      const sample = counts.facetsOf('user', ['u0', 'u1', 'u9']);
      expect(sample.get('country')).to.deep.equal([{ value: 'be', count: 2 }, { value: 'nl', count: 1 }]);
      expect(counts.facet('user', 'email', 10, 5)).to.deep.equal({ field: 'email', values: [], distinct: 6 });
    } finally {
      await store.close();
    }
  });
});
