// Issue 17: for the most frequent terms of N generated documents, how often the champion lists answer a
// top-20 page, how long that takes against FTS5's exact ORDER BY rank, rowid, and overlap@20.
// node scripts/topk-overlap.js [docs] [terms]   (after npm run build)
const Database = require('better-sqlite3');
const { DocGenerator } = require('../dist/bench/data');
const { FullTextProjection } = require('../dist/projections/sqlite/fulltext');
const { ChampionLists, TRACKED_DF } = require('../dist/projections/sqlite/champions');
const { ensureProjectionTables, ftsTable, LIVE } = require('../dist/projections/sqlite/tables');
(async () => {
const N = Number(process.argv[2] ?? 200000), TERMS = Number(process.argv[3] ?? 40);
const schema = { types: { doc: { text: ['title', 'body'] } } };
const db = new Database(':memory:');
ensureProjectionTables(db, LIVE);
const gen = new DocGenerator(21);
const fts = new FullTextProjection(db, schema, LIVE);
fts.startBulk(N);
db.transaction(() => { for (let i = 1; i <= N; i++) fts.index('doc', i, gen.doc(i), true); })();
const bulkLists = await fts.finishBulk();
db.transaction(() => fts.writeBulk(bulkLists))();
fts.optimize();
// a tenth more appended inline, and 1% deleted, after the lists were built
const more = new FullTextProjection(db, schema, LIVE);
db.transaction(() => { for (let i = N + 1; i <= N * 1.1; i++) more.index('doc', i, gen.doc(i)); })();
db.transaction(() => { for (let i = 1; i <= N; i += 100) more.remove('doc', i); })();
const table = ftsTable('doc');
db.exec(`CREATE VIRTUAL TABLE v USING fts5vocab(${table}, 'row')`);
const terms = db.prepare(`SELECT term, doc FROM v WHERE doc >= ? ORDER BY doc DESC LIMIT ?`).all(TRACKED_DF, TERMS);
const exact = db.prepare(`SELECT rowid FROM ${table} WHERE ${table} MATCH ? ORDER BY rank, rowid LIMIT 20`).pluck();
const lists = new ChampionLists(db, LIVE);
const ms = (fn) => { const s = process.hrtime.bigint(); const r = fn(); return [r, Number(process.hrtime.bigint() - s) / 1e6]; };
let served = 0, overlap = 0, listMs = [], ftsMs = [];
for (const { term, doc } of terms) {
  const [truth, e] = ms(() => exact.all(`"${term}"`));
  const [mine, c] = ms(() => lists.top('doc', term, 20));
  ftsMs.push(e);
  if (mine) { served++; listMs.push(c); overlap += mine.filter((id) => truth.includes(id)).length / 20; }
  else console.log(`  not served: ${term} (df ${doc})`);
}
const q = (a, p) => a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] ?? NaN;
console.log(`${N} docs (+10% appended, 1% deleted after the lists were built), ${terms.length} most frequent terms (df ${terms.at(-1)?.doc}..${terms[0]?.doc}):`);
console.log(`  served by the lists ${served}/${terms.length}; overlap@20 with FTS5 exact BM25 ${(overlap / Math.max(1, served)).toFixed(3)}`);
console.log(`  lists p50 ${q(listMs, 0.5).toFixed(2)} ms, max ${q(listMs, 1).toFixed(2)} ms; FTS5 ORDER BY rank, rowid p50 ${q(ftsMs, 0.5).toFixed(1)} ms, max ${q(ftsMs, 1).toFixed(1)} ms`);
})();
