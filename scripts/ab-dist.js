// Usage: node scripts/ab-dist.js BASE_DIST NEW_DIST [ROUNDS]  (each a built dist/ folder, e.g. of main and of a branch)
// Interleaved A/B of _new and _get with no personal fields: both builds' stores in one process, same data,
// alternating order each round. Prints, per backend and operation, the median of the per-round time ratios
// new/base and a 95% bootstrap interval of that median (below 1 = the new build is faster).
const path = require('path');
const os = require('os');
const fs = require('fs');
const A = require(path.resolve(process.argv[2], 'index.js'));
const B = require(path.resolve(process.argv[3], 'index.js'));
const ROUNDS = Number(process.argv[4] ?? 40);
const schema = { types: { doc: { text: ['title', 'body'], unique: ['email'] } } };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** 95% bootstrap interval of the median (2,000 resamples, a fixed seed so a run can be repeated). */
function interval(xs) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const medians = [];
  for (let b = 0; b < 2000; b++) medians.push(median(xs.map(() => xs[Math.floor(rand() * xs.length)])));
  medians.sort((a, b) => a - b);
  return [medians[50], medians[1949]];
}

async function main() {
  for (const backend of ['sqlite', 'file']) {
    const stores = [];
    const dirs = [];
    for (const [name, lib] of [['base', A], ['new', B]]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osis-ab-'));
      dirs.push(dir);
      const url = backend === 'sqlite' ? `sqlite:${dir}/s.db` : `file:${dir}/log`;
      stores.push({ name, store: await lib.openStore(url, { schema, durability: 'normal' }) });
    }
    const ratios = { new: [], get: [] };
    const sids = { base: [], new: [] };
    for (let round = 0; round <= ROUNDS; round++) {
      const ms = { base: {}, new: {} };
      for (const { name, store } of round % 2 ? stores : [...stores].reverse()) {
        const c = store.collection('doc');
        let t = process.hrtime.bigint();
        for (let i = 0; i < 300; i++) sids[name].push((await c._new({ title: `title ${round} ${i}`, body: 'some body words here', email: `p${round}.${i}@x.org`, n: i })).sid);
        ms[name].new = Number(process.hrtime.bigint() - t);
        t = process.hrtime.bigint();
        const list = sids[name];
        for (let i = 0; i < 5000; i++) await c._get(list[(i * 7919) % list.length]);
        ms[name].get = Number(process.hrtime.bigint() - t);
      }
      if (round === 0) continue; // warm-up
      ratios.new.push(ms.new.new / ms.base.new);
      ratios.get.push(ms.new.get / ms.base.get);
    }
    for (const s of stores) await s.store.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    for (const op of ['new', 'get']) {
      const [lo, hi] = interval(ratios[op]);
      console.log(`${backend} _${op}: time ratio new/base, median of ${ROUNDS} rounds ${median(ratios[op]).toFixed(3)} (95% interval ${lo.toFixed(3)}–${hi.toFixed(3)})`);
    }
  }
}
main();
