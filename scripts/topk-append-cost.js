// Issue 17: what the champion lists add to full-text indexing of appended objects (catch-up after _new).
// node scripts/topk-append-cost.js [docs]   (after npm run build)
const Database = require('better-sqlite3');
const { DocGenerator } = require('../dist/bench/data');
const { FullTextProjection } = require('../dist/projections/sqlite/fulltext');
const { ensureProjectionTables, LIVE, typeTable } = require('../dist/projections/sqlite/tables');
(async () => {
const N = Number(process.argv[2] ?? 200000);
const schema = { types: { doc: { text: ['title', 'body'] } } };
const db = new Database(':memory:');
ensureProjectionTables(db, LIVE);
const gen = new DocGenerator(9);
let fts = new FullTextProjection(db, schema, LIVE);
let t = Date.now();
fts.startBulk(N);
db.transaction(() => { for (let i = 1; i <= N; i++) fts.index('doc', i, gen.doc(i), true); })();
const indexMs = Date.now() - t;
t = Date.now();
const bulkLists = await fts.finishBulk();
db.transaction(() => fts.writeBulk(bulkLists))();
console.log(`bulk: ${N} docs indexed in ${indexMs} ms (incl. collecting champions), lists written in ${Date.now() - t} ms, ` +
  `${db.prepare(`SELECT count(*) FROM ${typeTable(LIVE.championPrefix, 'doc')}`).pluck().get()} rows`);
{
  const plain = new Database(':memory:');
  ensureProjectionTables(plain, LIVE);
  const again = new DocGenerator(9), ftsPlain = new FullTextProjection(plain, schema, LIVE);
  const s = Date.now();
  plain.transaction(() => { for (let i = 1; i <= N; i++) ftsPlain.index('doc', i, again.doc(i), true); })();
  console.log(`bulk without collecting champions: ${N} docs indexed in ${Date.now() - s} ms`);
  plain.close();
}
let next = N + 1;
function batch() {
  const s = process.hrtime.bigint();
  db.transaction(() => { for (let i = 0; i < 1000; i++, next++) fts.index('doc', next, gen.doc(next)); })();
  return Number(process.hrtime.bigint() - s) / 1e6;
}
const rounds = 10, withLists = [], without = [];
for (let r = 0; r < rounds; r++) {
  fts = new FullTextProjection(db, schema, LIVE);
  withLists.push(batch());
  db.exec(`ALTER TABLE ${typeTable(LIVE.championPrefix, 'doc')} RENAME TO parked`);
  fts = new FullTextProjection(db, schema, LIVE);
  without.push(batch());
  db.exec(`ALTER TABLE parked RENAME TO ${typeTable(LIVE.championPrefix, 'doc')}`);
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log(`index 1,000 appended docs: with lists ${med(withLists).toFixed(1)} ms, without ${med(without).toFixed(1)} ms (median of ${rounds})`);
})();
