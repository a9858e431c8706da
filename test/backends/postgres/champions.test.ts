import { expect } from 'chai';
import type { ObjectRecord, ProposedEvent } from '../../../src';
import { lexemeQuery, singleLexeme } from '../../../src/backends/postgres/champion-lists';
import { documentVectorOf, scoreBound } from '../../../src/backends/postgres/projection-values';
import { prng } from '../../../src/bench/data';
import { WORDS } from '../../projections/champion-helpers';
import { bodies, createDocs, exactPage, openHost, readyTerms, SETTINGS, storePages, type Host } from './champion-helpers';
import { PgSchemas, pgUrl } from './pg-fixture';

const url = pgUrl();

/** Pages 1–3 of `term` from `host` equal the exact ORDER BY pages; returns how many the lists answered. */
async function expectExactPages(host: Host, term: string, pages = 3): Promise<number> {
  const got = await storePages(host, term, pages);
  for (let p = 0; p < pages; p++) expect(got.items[p], `${term} page ${p + 1}`).to.deep.equal(await exactPage(host, term, 20, p * 20));
  return got.fromLists;
}

/** Terms of the vocabulary in at least SETTINGS.minDf objects (by the tables). */
async function frequentWords(host: Host): Promise<string[]> {
  const result = await host.log.pool.query(
    `SELECT l.term FROM "${host.log.schema}".objects o, unnest(tsvector_to_array(o.tsv)) l(term) GROUP BY l.term HAVING count(*) >= $1 ORDER BY l.term`,
    [SETTINGS.minDf],
  );
  return result.rows.map((r) => r.term as string);
}

if (url) {
  describe('postgres champion lists (top-k ranked full text)', function () {
    this.timeout(120_000);
    const schemas = new PgSchemas(url);
    const hosts: Host[] = [];
    const host = async (at: string) => {
      const h = await openHost(at);
      hosts.push(h);
      return h;
    };
    afterEach(async () => {
      for (const h of hosts.splice(0)) await h.close();
      await schemas.dropAll();
    });

    it('parses a one-lexeme tsquery and nothing else', () => {
      for (const term of ['report', "it's", 'a\\b', "''", '\\']) expect(singleLexeme(lexemeQuery(term))).to.equal(term);
      for (const q of ["'a' & 'b'", "'a':*", "('a' <-> 'b')", "'a' | 'b'", "'a'':*"]) expect(singleLexeme(q), q).to.equal(undefined);
    });

    it('computes every one-term score of a document as PostgreSQL ts_rank_cd does, to the float4 bit', async () => {
      const h = await host(schemas.freshUrl());
      const random = prng(3);
      const docs = Array.from({ length: 200 }, () => Array.from({ length: 1 + Math.floor(random() * 300) }, () => WORDS[Math.floor(random() ** 3 * WORDS.length)]).join(' '));
      docs.push(`${'report '.repeat(300)}the`); // past 256 positions of one lexeme
      let checked = 0;
      let exact = 0;
      for (const doc of docs) {
        const v = documentVectorOf(doc);
        const result = await h.log.pool.query(
          `SELECT l.term, ts_rank_cd($1::tsvector, quote_literal(l.term)::tsquery, 1)::float8 AS score FROM unnest(tsvector_to_array($1::tsvector)) l(term)`,
          [v.text],
        );
        for (const row of result.rows) {
          const bound = scoreBound(v.positions.get(row.term)!, v.total);
          // the writers bracket the score by ±1e-12 before float4 rounding, and skip a posting when the bracket is below the frontier
          const where = `${row.term} in "${doc.slice(0, 80)}"`;
          expect(Math.fround(bound * (1 - 1e-12)), where).to.be.at.most(row.score);
          expect(Math.fround(bound * (1 + 1e-12)), where).to.be.at.least(row.score);
          if (Math.fround(bound) === row.score) exact++;
          checked++;
        }
      }
      expect(checked).to.be.greaterThan(1000);
      expect(exact).to.equal(checked);
    });

    it('answers pages 1–3 of frequent terms from the lists built by a rebuild, exactly as the ORDER BY', async () => {
      const h = await host(schemas.freshUrl());
      await createDocs(h, 'd', 400, bodies(1));
      await h.projections.rebuild(h.log);
      const frequent = await frequentWords(h);
      expect(await readyTerms(h)).to.deep.equal(frequent);
      expect(frequent.length).to.be.at.least(5);
      let fromLists = 0;
      for (const term of frequent) fromLists += await expectExactPages(h, term);
      expect(fromLists).to.equal(frequent.length * 3);
    });

    it('stays exact after updates, deletions and new matches', async () => {
      const h = await host(schemas.freshUrl());
      const sids = await createDocs(h, 'd', 400, bodies(2));
      await h.projections.rebuild(h.log);
      const next = bodies(20);
      const random = prng(21);
      for (let round = 0; round < 4; round++) {
        const events: ProposedEvent[] = [];
        for (let i = 0; i < 12; i++) {
          const sid = sids[Math.floor(random() * sids.length)];
          if (events.some((e) => e.sid === sid)) continue;
          if (random() < 0.3) events.push({ type: 'doc', sid, kind: 'deleted', data: {} });
          else events.push({ type: 'doc', sid, kind: 'updated', data: { sid, body: next(), n: i } });
        }
        // short bodies full of one word: new best matches that must enter the lists
        for (let i = 0; i < 5; i++) events.push({ type: 'doc', sid: `new${round}_${i}`, kind: 'created', data: { sid: `new${round}_${i}`, body: 'report report report of', n: i } });
        await h.log.append(events);
        for (const e of events) if (e.kind === 'deleted') sids.splice(sids.indexOf(e.sid), 1);
      }
      const terms = await readyTerms(h);
      let fromLists = 0;
      for (const term of terms) fromLists += await expectExactPages(h, term);
      expect(fromLists).to.be.greaterThan(terms.length);
      const first = await storePages(h, 'report', 1);
      expect(first.items[0].filter((s) => s.startsWith('new')).length).to.be.greaterThan(0);
      expect(first.fromLists).to.equal(1);
      // heavy churn thins the lists (pages fall back to GIN, still exact); a promotion pass rebuilds them
      for (let round = 0; round < 4; round++) {
        await h.log.append(sids.splice(0, 50).map((sid) => ({ type: 'doc', sid, kind: 'deleted' as const, data: {} })));
        for (const term of terms.slice(0, 3)) await expectExactPages(h, term);
      }
      const pass = await h.projections.promote();
      expect(pass.doc.refreshed.length).to.be.greaterThan(0);
      fromLists = 0;
      for (const term of terms) fromLists += await expectExactPages(h, term);
      expect(fromLists).to.equal(terms.length * 3);
    });

    it('promotes terms that became frequent beside concurrent writers on two hosts, and both hosts agree', async () => {
      const at = schemas.freshUrl();
      const a = await host(at);
      const b = await host(at);
      await createDocs(a, 'a', 30, bodies(3));
      expect(await readyTerms(a)).to.deep.equal([]);
      const writers = [createDocs(a, 'x', 300, bodies(4), 10), createDocs(b, 'y', 300, bodies(5), 10)];
      // passes while the writers run: each may find terms that crossed the threshold meanwhile
      const passes: string[] = [];
      const promoting = (async () => {
        for (let i = 0; i < 6; i++) {
          await new Promise((r) => setTimeout(r, 30));
          const done = await (i % 2 === 0 ? a : b).projections.promote();
          passes.push(...(done.doc?.promoted ?? []));
        }
      })();
      await Promise.all([...writers, promoting]);
      const last = await a.projections.promote();
      passes.push(...(last.doc?.promoted ?? []));
      expect(passes.length).to.be.greaterThan(0);
      const frequent = await frequentWords(a);
      expect(await readyTerms(a)).to.deep.equal(frequent);
      b.projections.forgetTrackedTerms();
      let fromLists = 0;
      for (const term of frequent) {
        fromLists += await expectExactPages(a, term);
        fromLists += await expectExactPages(b, term);
        expect((await storePages(a, term, 3)).items).to.deep.equal((await storePages(b, term, 3)).items);
      }
      expect(fromLists).to.equal(frequent.length * 6);
    });

    it('cuts a list that new best matches swelled back to its size, and stays exact', async () => {
      const h = await host(schemas.freshUrl());
      await createDocs(h, 'd', 300, bodies(8));
      await h.projections.rebuild(h.log);
      const count = async () => Number((await h.log.pool.query(`SELECT count(*) AS n FROM "${h.log.schema}".champions WHERE term = 'report'`)).rows[0].n);
      expect(await count()).to.equal(SETTINGS.champions);
      let i = 0;
      await createDocs(h, 'top', 600, () => (i++ % 3 === 0 ? 'report report' : 'report report the'), 100);
      expect(await count()).to.be.greaterThan(4 * SETTINGS.champions);
      await expectExactPages(h, 'report');
      const pass = await h.projections.promote();
      expect(pass.doc.trimmed).to.include('report');
      expect(await count()).to.equal(SETTINGS.champions);
      expect(await expectExactPages(h, 'report')).to.equal(3);
      await createDocs(h, 'more', 50, () => 'report report', 10);
      expect(await expectExactPages(h, 'report')).to.equal(3);
    });

    it('ranks a rare term, several terms, a prefix and a filtered query through GIN, exactly', async () => {
      const h = await host(schemas.freshUrl());
      await createDocs(h, 'd', 300, bodies(6));
      await h.log.append([1, 2, 3].map((i) => ({ type: 'doc', sid: `q${i}`, kind: 'created' as const, data: { sid: `q${i}`, body: `quasar the ${'of '.repeat(i)}`, n: i } })));
      await h.projections.rebuild(h.log);
      expect(await readyTerms(h)).to.include('the');
      const before = h.projections.rankedPaths();
      for (const text of ['quasar', 'the report', 'the OR zebra', 'rep*', '"the report"']) {
        const got = await h.projections.find('doc', { text, limit: 20, filter: [] }, false);
        expect(got.items, text).to.deep.equal(await exactPage(h, text, 20, 0));
      }
      const filtered = await h.projections.find('doc', { text: 'the', limit: 20, filter: [{ field: 'n', op: 'lt', value: 100 }] }, false);
      expect(filtered.items.length).to.equal(20);
      const after = h.projections.rankedPaths();
      expect(after.champions - before.champions).to.equal(0);
      expect(after.gin - before.gin).to.equal(6);
    });

    it('an unranked find of a term with a list gives the matches in creation order, not the ranked page', async () => {
      const h = await host(schemas.freshUrl());
      await createDocs(h, 'd', 300, bodies(7));
      await h.projections.rebuild(h.log);
      expect(await readyTerms(h)).to.include('the');
      const unranked = await h.projections.find('doc', { text: 'the', unranked: true, limit: 20, filter: [] }, false);
      const inOrder = await h.log.pool.query(
        `SELECT sid FROM "${h.log.schema}".objects WHERE type = 'doc' AND tsv @@ 'the'::tsquery ORDER BY id LIMIT 20`,
      );
      expect(unranked.items).to.deep.equal(inOrder.rows.map((r) => r.sid));
      expect(unranked.items).to.not.deep.equal(await exactPage(h, 'the', 20, 0));
    });

    it('falls back to GIN past the lists, and a page from the lists is cut where GIN cuts it', async () => {
      const h = await host(schemas.freshUrl());
      await createDocs(h, 'd', 400, bodies(7));
      await h.projections.rebuild(h.log);
      const before = h.projections.rankedPaths();
      // offset 160 + 21 rows is past the 130 postings of a list
      const deep = await h.projections.find('doc', { text: 'the', limit: 20, offset: 160, filter: [] }, false);
      expect(deep.items).to.deep.equal(await exactPage(h, 'the', 20, 160));
      expect(h.projections.rankedPaths().gin - before.gin).to.equal(1);
      const full = await h.projections.find('doc', { text: 'the', limit: 5, filter: [] }, true);
      expect(full.items.map((r) => (r as ObjectRecord).object.sid)).to.deep.equal(await exactPage(h, 'the', 5, 0));
      expect(full.nextOffset).to.equal(5);
    });
  });
}
