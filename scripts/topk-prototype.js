// Research prototype for issue 17: cost of ranked FTS5 forms and of a champion-list (top-C cache) design.
// node scripts/topk-prototype.js [docs]   (after npm run build)
const Database = require('better-sqlite3');
const { DocGenerator } = require('../dist/bench/data');
const N = Number(process.argv[2] ?? 200000);
const db = new Database(':memory:');
db.exec(`CREATE VIRTUAL TABLE f USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`);
const gen = new DocGenerator(5);
const ins = db.prepare('INSERT INTO f (rowid, body) VALUES (?, ?)');
let t = Date.now();
db.transaction(() => { for (let i = 1; i <= N; i++) { const d = gen.doc(i); ins.run(i, `${d.title} ${d.body}`); } })();
console.log(`indexed ${N} in ${Date.now() - t} ms`);
db.exec(`INSERT INTO f(f) VALUES ('optimize')`);
function time(label, fn, n = 20) {
  fn(); const ts = [];
  for (let i = 0; i < n; i++) { const s = process.hrtime.bigint(); fn(); ts.push(Number(process.hrtime.bigint() - s) / 1e6); }
  ts.sort((a, b) => a - b);
  console.log(`${label}: p50 ${ts[n >> 1].toFixed(2)} ms, max ${ts[n - 1].toFixed(2)} ms`);
}
const q = (sql) => db.prepare(sql);
for (const term of ['report', 'amber', 'quasar', 'amber harbor', 'report amber']) {
  const a = q(`SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank, rowid LIMIT 20`).pluck();
  const b = q(`SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank LIMIT 20`).pluck();
  const c = q(`SELECT count(*) FROM f WHERE f MATCH ?`).pluck();
  console.log(`-- ${term}: ${c.get(term)} matches`);
  time('  ORDER BY rank, rowid', () => a.all(term), 5);
  time('  ORDER BY rank       ', () => b.all(term), 5);
  time('  count(*)            ', () => c.get(term), 5);
}
// champion list: top C by exact rank, then rescoring C candidates + new docs
const C = Number(process.env.C ?? 1000);
const exact = q(`SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank, rowid LIMIT ?`).pluck();
let champions = exact.all('report', C);
// append 10% more docs, delete 1%
db.transaction(() => { for (let i = N + 1; i <= N * 1.1; i++) { const d = gen.doc(i); ins.run(i, `${d.title} ${d.body}`); } })();
const del = q('DELETE FROM f WHERE rowid = ?');
db.transaction(() => { for (let i = 0; i < N / 100; i++) del.run(champions[i * 3 % champions.length]); })();
const newIds = []; for (let i = N + 1; i <= N * 1.1; i++) newIds.push(i);
const rescoreJson = q(`SELECT rowid FROM f WHERE f MATCH ? AND rowid IN (SELECT value FROM json_each(?)) ORDER BY rank, rowid LIMIT 20`).pluck();
const truth = exact.all('report', 20);
for (const [label, cand] of [['champions only', champions], ['champions + 100 new', champions.concat(newIds.slice(0, 100))]]) {
  const json = JSON.stringify(cand);
  const got = rescoreJson.all('report', json);
  time(`rescore ${label} (${cand.length}) via rowid IN json_each`, () => rescoreJson.all('report', json));
  console.log(`  ${label}: overlap@20 ${got.filter((x) => truth.includes(x)).length / 20}`);
}
const one = q(`SELECT rank FROM f WHERE f MATCH ? AND rowid = ?`).pluck();
time(`rescore ${C} via rowid = ? each`, () => { for (const id of champions) one.get('report', id); }, 5);
