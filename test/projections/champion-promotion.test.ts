import Database from 'better-sqlite3';
import { expect } from 'chai';
import * as path from 'node:path';
import { openStore } from '../../src';
import { prng } from '../../src/bench/data';
import { promoteFrequentTerms } from '../../src/projections/sqlite/champion-promotion';
import { ChampionLists, TRACKED_DF } from '../../src/projections/sqlite/champions';
import { LIVE, ftsTable } from '../../src/projections/sqlite/tables';
import { tempDir } from '../helpers/temp';
import { SCHEMA, body, exact, pages } from './champion-helpers';

/** FTS5's exact top `k` rowids for one term. */
const exactIds = (db: Database.Database, term: string, k: number) =>
  db.prepare(`SELECT rowid FROM ${ftsTable('doc')} WHERE ${ftsTable('doc')} MATCH ? ORDER BY rank, rowid LIMIT ?`).pluck().all(term, k);

describe('champion lists for a store that is never rebuilt (promotion of frequent terms)', function () {
  this.timeout(120_000);

  it('gives a term that became frequent its lists in the background, answering as FTS5 exact BM25', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`, { schema: SCHEMA, durability: 'normal' });
    const raw = new Database(file, { readonly: true });
    try {
      const docs = store.collection('doc');
      const random = prng(11);
      const lists = new ChampionLists(raw, LIVE);
      // Every body has 'the', so it is frequent as soon as the type is.
      const text = () => `the ${body(random)}`;
      for (let i = 0; i < TRACKED_DF - 100; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, TRACKED_DF - 100 - i) }, (_, j) => docs._new({ body: text() }, { sid: `d${i + j}` })));
      }
      await store.projectionEngine.ensureFullText();
      await store.projectionEngine.promoteFrequentTerms();
      expect(lists.top('doc', 'the', 21), 'below TRACKED_DF objects no term is promoted').to.equal(undefined);
      // Checks run as the type grows (at TRACKED_DF objects, then at every 25% more); one may be running.
      for (let i = TRACKED_DF - 100; i < TRACKED_DF + 300; i++) await docs._new({ body: text() }, { sid: `d${i}` });
      await store.projectionEngine.ensureFullText();
      await store.projectionEngine.promoteFrequentTerms();
      await store.projectionEngine.promoteFrequentTerms();
      expect(lists.top('doc', 'the', 21), 'a frequent term got its lists without a rebuild').to.deep.equal(exactIds(raw, 'the', 21));
      expect(lists.top('doc', 'kite', 21), 'a rare term is left to FTS5').to.equal(undefined);
      for (const term of ['the', 'report', 'kite']) expect(await pages(store, term, 3), term).to.deep.equal(exact(raw, term, 60));
      for (let i = 0; i < 20; i++) await docs._new({ body: i % 2 ? 'the' : 'the the report' }, { sid: `short${i}` });
      expect(lists.top('doc', 'the', 21), 'the lists take new matches').to.deep.equal(exactIds(raw, 'the', 21));
      expect(await pages(store, 'the', 3)).to.deep.equal(exact(raw, 'the', 60));
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('stays exact when objects change while the scan runs (changed objects keep the postings add() gave them)', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`, { schema: SCHEMA, durability: 'normal' });
    const raw = new Database(file, { readonly: true });
    try {
      const docs = store.collection('doc');
      const random = prng(12);
      const count = TRACKED_DF + 200;
      for (let i = 0; i < count; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => docs._new({ body: body(random) }, { sid: `d${i + j}` })));
      }
      const engine = store.projectionEngine;
      await engine.ensureFullText();
      const before = exact(raw, 'the', 40);
      const champions = engine.fulltext.champions;
      let slices = 0;
      const job = promoteFrequentTerms(engine.db, engine.schema, LIVE, champions, 'doc', count, () => ++slices > 0, 100);
      // Interleave with the scan: the best matches get worse, weak ones get better, new ones arrive, some go.
      for (let i = 0; i < 30; i++) {
        await docs._set({ sid: before[i], body: i % 3 ? 'zebra ocean mint cloud stone river lamp kite the' : 'the the the the the' });
        if (i % 5 === 0) await docs._delete(before[30 + i / 5]);
        await docs._new({ body: i % 2 ? 'the' : 'the the report' }, { sid: `n${i}` });
        await engine.ensureFullText();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      expect(await job, 'the scan ran beside the writes').to.include('the');
      expect(slices, 'the scan yielded between slices').to.be.greaterThan(10);
      for (const term of ['the', 'report', 'of']) {
        const mine = champions.top('doc', term, 41);
        if (term === 'the') expect(mine, 'the lists answer').to.not.equal(undefined);
        if (mine) expect(mine, term).to.deep.equal(exactIds(raw, term, 41));
        expect(await pages(store, term, 3), term).to.deep.equal(exact(raw, term, 60));
      }
    } finally {
      raw.close();
      await store.close();
    }
  });
});
