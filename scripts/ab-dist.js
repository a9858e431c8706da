// Usage: node scripts/ab-dist.js BASE_DIST NEW_DIST  (each a built dist/ folder, e.g. of main and of this branch)
// Interleaved A/B of _new and _get with no personal fields, both stores in one process, same data, alternating rounds.
const path = require('path');
const os = require('os');
const A = require(path.resolve(process.argv[2], 'index.js'));
const B = require(path.resolve(process.argv[3], 'index.js'));
const fs = require('fs');
const schema = { types: { doc: { text: ['title', 'body'] } } };
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
    const totals = { base: { new: 0, get: 0 }, new: { new: 0, get: 0 } };
    const sids = { base: [], new: [] };
    for (let round = 0; round < 8; round++) {
      for (const { name, store } of round % 2 ? stores : [...stores].reverse()) {
        const c = store.collection('doc');
        let t = process.hrtime.bigint();
        for (let i = 0; i < 500; i++) sids[name].push((await c._new({ title: `title ${round} ${i}`, body: 'some body words here', n: i })).sid);
        if (round > 0) totals[name].new += Number(process.hrtime.bigint() - t) / 1e6;
        t = process.hrtime.bigint();
        const list = sids[name];
        for (let i = 0; i < 10000; i++) await c._get(list[(i * 7919) % list.length]);
        if (round > 0) totals[name].get += Number(process.hrtime.bigint() - t) / 1e6;
      }
    }
    for (const s of stores) await s.store.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    console.log(backend, JSON.stringify(totals), 'new/base: _new', (totals.new.new / totals.base.new).toFixed(3), '_get', (totals.new.get / totals.base.get).toFixed(3), '(time ratios; <1 = faster)');
  }
}
main();
