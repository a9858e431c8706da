// Research prototype for issue 17, part 2: per-term champion lists (top-C postings by BM25 weight, tf and dl
// computed in JS) kept beside FTS5. Measures: JS BM25 == FTS5 order, champion build cost vs FTS5 indexing,
// query cost, and overlap@20 with FTS5's exact top 20. node scripts/topk-champions.js [docs] [C]
const Database = require('better-sqlite3');
const { DocGenerator } = require('../dist/bench/data');
const N = Number(process.argv[2] ?? 200000), C = Number(process.argv[3] ?? 200), K1 = 1.2, B = 0.75;
const db = new Database(':memory:');
db.exec(`CREATE VIRTUAL TABLE f USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`);
db.exec(`CREATE TABLE champ (term TEXT, tf INTEGER, dl INTEGER, id INTEGER, PRIMARY KEY (term, id)) WITHOUT ROWID`);
const tokens = (s) => (s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().match(/[\p{L}\p{N}\p{Co}]+/gu) ?? []);
const gen = new DocGenerator(5);
const docs = []; for (let i = 1; i <= N; i++) { const d = gen.doc(i); docs.push(`${d.title} ${d.body}`); }
const ins = db.prepare('INSERT INTO f (rowid, body) VALUES (?, ?)');
let t = Date.now();
db.transaction(() => { for (let i = 1; i <= N; i++) ins.run(i, docs[i - 1]); })();
const ftsMs = Date.now() - t;
// champion build: per term, keep the C best by (tf, dl) under the avgdl of the data (single pass, then sort)
t = Date.now();
const df = new Map(), post = new Map(); let total = 0;
for (let i = 1; i <= N; i++) {
  const tk = tokens(docs[i - 1]); total += tk.length;
  const tf = new Map(); for (const w of tk) tf.set(w, (tf.get(w) ?? 0) + 1);
  for (const [w, n] of tf) { df.set(w, (df.get(w) ?? 0) + 1); let p = post.get(w); if (!p) post.set(w, (p = [])); p.push([n, tk.length, i]); }
}
const avgdl = total / N, weight = (tf, dl, a) => (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * dl) / a));
const champIns = db.prepare('INSERT INTO champ VALUES (?, ?, ?, ?)');
const MIN_DF = Number(process.env.MIN_DF ?? 2000);
let rows = 0;
db.transaction(() => {
  for (const [w, p] of post) {
    if (p.length < MIN_DF) continue;
    p.sort((x, y) => weight(y[0], y[1], avgdl) - weight(x[0], x[1], avgdl) || x[2] - y[2]);
    for (const [tf, dl, id] of p.slice(0, C)) { champIns.run(w, tf, dl, id); rows++; }
  }
})();
console.log(`docs ${N}: fts5 index ${ftsMs} ms; JS tokenize+champions (C=${C}, terms with df>=${MIN_DF}) ${Date.now() - t} ms, ${rows} rows`);
const exact = db.prepare(`SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank, rowid LIMIT 20`).pluck();
const champSel = db.prepare(`SELECT id, tf, dl FROM champ WHERE term = ?`);
function topk(term) {
  const c = champSel.all(term);
  return c.map((r) => [weight(r.tf, r.dl, avgdl), r.id]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 20).map((x) => x[1]);
}
const frequent = [...df].filter(([, n]) => n >= MIN_DF).sort((a, b) => b[1] - a[1]).slice(0, 12);
for (const [term, n] of frequent) {
  let s = process.hrtime.bigint(); const truth = exact.all(term); const e = Number(process.hrtime.bigint() - s) / 1e6;
  s = process.hrtime.bigint(); const got = topk(term); const c = Number(process.hrtime.bigint() - s) / 1e6;
  const same = got.every((x, i) => x === truth[i]);
  console.log(`${term} df ${n}: fts5 ${e.toFixed(1)} ms, champions ${c.toFixed(2)} ms, overlap@20 ${got.filter((x) => truth.includes(x)).length / 20}, same order ${same}`);
}
