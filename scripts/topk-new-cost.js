// Issue 17: 1,000 concurrent _new (then the full-text catch-up a text query forces), with and without champion lists.
// node scripts/topk-new-cost.js [objects]   (after npm run build)
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const Database = require('better-sqlite3');
const { openStore } = require('../dist');
const { DocGenerator, BENCH_SCHEMA, BENCH_TYPE } = require('../dist/bench/data');
const { LIVE, typeTable } = require('../dist/projections/sqlite/tables');
(async () => {
  const N = Number(process.argv[2] ?? 20000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topk-new-'));
  const file = path.join(dir, 'store.db');
  const store = await openStore(`sqlite:${file}`, { schema: BENCH_SCHEMA, durability: 'normal' });
  const docs = store.collection(BENCH_TYPE), gen = new DocGenerator(3);
  for (let i = 0; i < N; i += 1000) await Promise.all(gen.docs(1000, i).map((d) => docs._new(d)));
  await store.rebuild();
  const side = new Database(file);
  const table = typeTable(LIVE.championPrefix, BENCH_TYPE);
  const batch = async () => {
    const s = process.hrtime.bigint();
    await Promise.all(gen.docs(1000).map((d) => docs._new(d)));
    const appended = Number(process.hrtime.bigint() - s) / 1e6;
    await docs._find({ text: 'quasar', limit: 1 });
    return [appended, Number(process.hrtime.bigint() - s) / 1e6];
  };
  const withLists = [], without = [];
  await batch();
  for (let r = 0; r < 7; r++) {
    withLists.push(await batch());
    side.exec(`ALTER TABLE ${table} RENAME TO parked`);
    without.push(await batch());
    // a promotion check may have made a fresh table while the lists were parked: the parked lists win
    side.exec(`DROP TABLE IF EXISTS ${table}; ALTER TABLE parked RENAME TO ${table}`);
  }
  const med = (a, i) => a.map((x) => x[i]).sort((x, y) => x - y)[a.length >> 1];
  console.log(`${N} objects, 1,000 concurrent _new: with lists ${med(withLists, 0).toFixed(1)} ms (+ catch-up ${med(withLists, 1).toFixed(1)} ms), ` +
    `without ${med(without, 0).toFixed(1)} ms (+ catch-up ${med(without, 1).toFixed(1)} ms), median of 7`);
  side.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
})();
