// Issue 17: champion lists in a store that is never rebuilt. Loads N objects into a sqlite store through
// the log (no rebuild), then measures in one run: the common term's ranked top-20 before promotion
// (FTS5 scores every match), the promotion (vocabulary check + scan), a blue-green rebuild for scale,
// and the same query after promotion.   node scripts/promotion-cost.js [objects]   (after npm run build)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openStore } = require('../dist');
const { DocGenerator, BENCH_SCHEMA, BENCH_TYPE, COMMON_TERM } = require('../dist/bench/data');
const N = Number(process.argv[2] ?? 200000);

async function timeQueries(store, runs = 20) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await store.collection(BENCH_TYPE)._find({ text: COMMON_TERM, limit: 20 });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(runs / 2)], p99: times[runs - 1] };
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osis-promo-'));
  const store = await openStore(`sqlite:${path.join(dir, 'osis.db')}`, { schema: BENCH_SCHEMA, durability: 'normal' });
  const engine = store.projectionEngine;
  engine.promoteFrequentTerms = () => Promise.resolve(); // hold promotion back while loading and measuring "before"
  const gen = new DocGenerator(7);
  let t = Date.now();
  for (let i = 0; i < N; i += 20000) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 20000); j++) batch.push({ type: BENCH_TYPE, sid: `d${String(j).padStart(8, '0')}`, kind: 'created', data: { sid: `d${String(j).padStart(8, '0')}`, ...gen.doc(j) } });
    await store.eventLog.append(batch);
  }
  await engine.ensureFullText();
  console.log(`loaded ${N} objects (log + current state + full text, no rebuild) in ${Date.now() - t} ms`);
  const before = await timeQueries(store);
  delete engine.promoteFrequentTerms;
  t = Date.now();
  await engine.promoteFrequentTerms();
  const promoteMs = Date.now() - t;
  const tracked = engine.fulltext.champions.trackedTerms(BENCH_TYPE).tracked;
  const after = await timeQueries(store);
  t = Date.now();
  await store.rebuild();
  const rebuildMs = Date.now() - t;
  const rebuilt = await timeQueries(store);
  console.log(`common term "${COMMON_TERM}" top-20, before promotion: p50 ${before.p50.toFixed(2)} ms, p99 ${before.p99.toFixed(2)} ms`);
  console.log(`promotion: ${tracked.size} terms given lists in ${promoteMs} ms (a full blue-green rebuild: ${rebuildMs} ms, ${(promoteMs / rebuildMs).toFixed(2)}x of it)`);
  console.log(`after promotion: p50 ${after.p50.toFixed(2)} ms, p99 ${after.p99.toFixed(2)} ms (${(before.p50 / after.p50).toFixed(0)}x faster at p50); after the rebuild: p50 ${rebuilt.p50.toFixed(2)} ms`);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
})();
