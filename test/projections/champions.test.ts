import Database from 'better-sqlite3';
import { expect } from 'chai';
import * as path from 'node:path';
import { openStore, type Store } from '../../src';
import { bm25Weight, averageLength, terms } from '../../src/projections/sqlite/bm25';
import { ChampionLists, TRACKED_DF } from '../../src/projections/sqlite/champions';
import { LIVE, ftsTable, typeTable } from '../../src/projections/sqlite/tables';
import { prng } from '../../src/bench/data';
import { tempDir } from '../helpers/temp';
import { SCHEMA, WORDS, body, exact, pages } from './champion-helpers';

describe('champion lists: one-term ranked pages without scoring every match', function () {
  this.timeout(120_000);

  it('computes FTS5 bm25 order in JS (tokens, weights, average length)', () => {
    expect(terms('Héllo, WORLD—x_y 42')).to.deep.equal(['hello', 'world', 'x', 'y', '42']);
    const db = new Database(':memory:');
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2')`);
    const random = prng(3);
    const bodies = Array.from({ length: 300 }, () => body(random));
    bodies.forEach((b, i) => db.prepare('INSERT INTO f (rowid, body) VALUES (?, ?)').run(i + 1, b));
    for (let i = 1; i <= 30; i++) db.prepare('DELETE FROM f WHERE rowid = ?').run(i * 7);
    const live = bodies.map((b, i) => ({ id: i + 1, tokens: terms(b) })).filter((d) => d.id % 7 !== 0 || d.id > 210);
    const avgdl = averageLength(db, 'f')!;
    // A contentless_delete table keeps its averages record as inserted (deletes do not change it); bm25() reads the same record.
    expect(avgdl).to.be.closeTo(bodies.reduce((s, b) => s + terms(b).length, 0) / bodies.length, 1e-9);
    const mine = live
      .filter((d) => d.tokens.includes('the'))
      .map((d) => ({ id: d.id, w: bm25Weight(d.tokens.filter((t) => t === 'the').length, d.tokens.length, avgdl) }))
      .sort((a, b) => b.w - a.w || a.id - b.id)
      .map((d) => d.id);
    expect(db.prepare(`SELECT rowid FROM f WHERE f MATCH 'the' ORDER BY rank, rowid`).pluck().all()).to.deep.equal(mine);
    db.close();
  });

  it('answers like FTS5 exact BM25 after a rebuild and through appends, updates and deletes', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`, { schema: SCHEMA, durability: 'normal' });
    const raw = new Database(file, { readonly: true });
    try {
      const docs = store.collection('doc');
      const random = prng(11);
      const count = Math.ceil(TRACKED_DF * 1.3);
      for (let i = 0; i < count; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => docs._new({ body: body(random) }, { sid: `d${i + j}` })));
      }
      await store.rebuild();
      const lists = new ChampionLists(raw, LIVE);
      expect(raw.prepare('SELECT count(*) FROM sqlite_master WHERE name = ?').pluck().get(typeTable(LIVE.championPrefix, 'doc'))).to.equal(1);
      expect(lists.top('doc', 'the', 21), 'the lists answer a frequent term').to.not.equal(undefined);
      expect(lists.top('doc', 'kite', 21), 'a rare term is left to FTS5').to.equal(undefined);
      const table = typeTable(LIVE.championPrefix, 'doc');
      const matches = raw.prepare(`SELECT count(*) FROM ${ftsTable('doc')} WHERE ${ftsTable('doc')} MATCH 'the'`).pluck().get() as number;
      expect(raw.prepare(`SELECT count(*) FROM ${table} WHERE term = 'the' AND id < 0`).pluck().get(), 'postings were left out').to.be.greaterThan(0);
      expect(raw.prepare(`SELECT count(*) FROM ${table} WHERE term = 'the' AND id > 0`).pluck().get()).to.be.lessThan(matches);
      for (const term of ['the', 'report', 'of', 'kite']) expect(await pages(store, term, 3), term).to.deep.equal(exact(raw, term, 60));

      // Short bodies beat the lists' best; deletes and updates remove champions.
      for (let i = 0; i < 40; i++) await docs._new({ body: i % 2 ? 'the' : 'the the report' }, { sid: `n${i}` });
      const top = exact(raw, 'the', 30);
      for (const sid of top.slice(0, 10)) await docs._delete(sid);
      for (const sid of top.slice(10, 20)) await docs._set({ sid, body: 'zebra ocean mint cloud stone river lamp kite the' });
      for (let i = 0; i < 200; i++) if (!top.slice(0, 10).includes(`d${i}`)) await docs._set({ sid: `d${i}`, body: body(random) });
      for (const term of ['the', 'report', 'of']) {
        expect(await pages(store, term, 3), term).to.deep.equal(exact(raw, term, 60));
        const mine = lists.top('doc', term, 21);
        if (term === 'the') expect(mine, 'new short bodies joined the list').to.not.equal(undefined);
        if (mine) expect(mine, term).to.deep.equal(raw.prepare(`SELECT rowid FROM ${ftsTable('doc')} WHERE ${ftsTable('doc')} MATCH ? ORDER BY rank, rowid LIMIT 21`).pluck().all(term));
      }
      // A rebuild writes the same lists over the new generation.
      await store.rebuild();
      for (const term of ['the', 'report']) expect(await pages(store, term, 2), term).to.deep.equal(exact(raw, term, 40));
    } finally {
      raw.close();
      await store.close();
    }
  });

  // Regression: with the left-out frontier kept as a length only, a term whose matches all had the same
  // length and tf (the benchmark's common term) kept an empty list, and every query fell back to FTS5.
  it('answers from the lists when thousands of matches tie on tf and length (ties ranked by id)', async () => {
    const file = path.join(tempDir(), 'osis.db');
    const store = await openStore(`sqlite:${file}`, { schema: SCHEMA, durability: 'normal' });
    const raw = new Database(file, { readonly: true });
    try {
      const docs = store.collection('doc');
      const random = prng(5);
      const count = TRACKED_DF + 100;
      for (let i = 0; i < count; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => docs._new({ body: `report ${WORDS[4 + Math.floor(random() * 8)]} mint` }, { sid: `d${i + j}` })));
      }
      await store.rebuild();
      const lists = new ChampionLists(raw, LIVE);
      expect(lists.top('doc', 'report', 61)).to.have.length(61);
      expect(await pages(store, 'report', 3)).to.deep.equal(exact(raw, 'report', 60));
      for (let i = 0; i < 30; i++) await docs._new({ body: i % 3 ? 'report kite mint' : 'report report' }, { sid: `n${i}` });
      for (const sid of exact(raw, 'report', 15)) await docs._delete(sid);
      expect(lists.top('doc', 'report', 21)).to.have.length(21);
      expect(await pages(store, 'report', 3)).to.deep.equal(exact(raw, 'report', 60));
    } finally {
      raw.close();
      await store.close();
    }
  });
});
