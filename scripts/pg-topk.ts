// Issue 17 on PostgreSQL: top-k ranked search on frequent terms with champion lists, beside the code before
// them and the fastest raw SQL for the same answer, in one run on one server (ratios carry over, absolute
// numbers do not: the machine is shared).
//   git archive <commit before the lists> | tar -x -C /tmp/osis-before && ln -s $PWD/node_modules /tmp/osis-before/
//   OSIS_PG_URL=postgres://postgres@127.0.0.1:5432/postgres npx ts-node --transpile-only scripts/pg-topk.ts [objects] [rounds] [/tmp/osis-before]
// (TOPK_ONLY=append: only the append rounds, 2 × rounds + 1 of them.)
// Loads `objects` generated documents (bench data: 'report' in 80%) into a store of this tree (its champion
// lists promoted in the background while it loads, as a growing store gets them) and, when a tree from
// before is given, into a store of that code; then per query kind p50/p99 over interleaved rounds, overlap@20
// and page equality with the exact ORDER BY, and 1,000 concurrent `_new` on both stores.
// Schemas topk_<hex>_* are dropped at the end (an interrupted run leaves them behind).
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { openStore, type Store } from '../src';
import { BENCH_SCHEMA, BENCH_TYPE, COMMON_TERM, DocGenerator, PAIR_TERMS, RARE_TERMS, bulkSid } from '../src/bench/data';

const base = process.env.OSIS_PG_URL;
if (!base) {
  console.error('set OSIS_PG_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  process.exit(2);
}
const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const BEFORE = process.argv[4];
const tag = `topk_${randomBytes(4).toString('hex')}`;
const pool = new Pool({ connectionString: base, max: 4 });

function urlOf(schema: string): string {
  const url = new URL(base!);
  url.searchParams.set('schema', schema);
  return url.toString();
}
const ms = (s: number) => `${s.toFixed(2)} ms`;
function stats(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99) };
}
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The fastest raw statements for the exact answer of a one-term ranked page (GIN finds, ts_rank_cd scores). */
const RAW_FORMS: Record<string, (schema: string) => string> = {
  'type filter, bound tsquery': (s) =>
    `SELECT sid FROM "${s}".objects WHERE type = $1 AND tsv @@ $2::tsquery ORDER BY ts_rank_cd(tsv, $2::tsquery, 1) DESC, id LIMIT $3 OFFSET $4`,
  'lateral query, no re-cast': (s) =>
    `SELECT o.sid FROM "${s}".objects o, (SELECT $2::tsquery AS q) x WHERE o.type = $1 AND o.tsv @@ x.q ORDER BY ts_rank_cd(o.tsv, x.q, 1) DESC, o.id LIMIT $3 OFFSET $4`,
  'score in subquery, then sid': (s) =>
    `SELECT o.sid FROM (SELECT id, ts_rank_cd(tsv, $2::tsquery, 1) AS r FROM "${s}".objects WHERE type = $1 AND tsv @@ $2::tsquery ORDER BY r DESC, id LIMIT $3 OFFSET $4) t JOIN "${s}".objects o ON o.id = t.id ORDER BY t.r DESC, t.id`,
};

async function load(store: Store, docs: Array<Record<string, unknown>>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < docs.length; i += 1000) {
    await store.eventLog.append(docs.slice(i, i + 1000).map((d) => ({ type: BENCH_TYPE, sid: d.sid as string, kind: 'created' as const, data: d })));
  }
  return performance.now() - t;
}

(async () => {
  const after = `${tag}_after`;
  const before = `${tag}_before`;
  const schemas = [after, before];
  const gen = new DocGenerator(5);
  const docs = Array.from({ length: N }, (_, i) => ({ sid: bulkSid(i), ...gen.doc(i) }));
  const stores: Record<string, Store> = {};
  try {
    stores.after = await openStore(urlOf(after), { schema: BENCH_SCHEMA, durability: 'full' });
    console.log(`load ${N} objects into the store with champion lists: ${(await load(stores.after, docs) / 1000).toFixed(1)} s (promotion passes run in the background)`);
    if (BEFORE) {
      const old = require(path.resolve(BEFORE, 'src')) as { openStore: typeof openStore };
      stores.before = await old.openStore(urlOf(before), { schema: BENCH_SCHEMA, durability: 'full' });
      console.log(`load ${N} objects into the store before the lists: ${(await load(stores.before, docs) / 1000).toFixed(1)} s`);
    }
    const projections = (stores.after as unknown as { backend: { projections: { promote(): Promise<unknown>; rankedPaths(): { champions: number; gin: number } } } }).backend.projections;
    await new Promise((r) => setTimeout(r, 200));
    const passStarted = performance.now();
    const pass = JSON.stringify(await projections.promote()).slice(0, 300);
    console.log(`one more promotion pass after the load (${(performance.now() - passStarted).toFixed(0)} ms): ${pass}`);
    const idleStarted = performance.now();
    await projections.promote();
    console.log(`a pass with nothing to do: ${(performance.now() - idleStarted).toFixed(1)} ms`);
    await pool.query(`ANALYZE "${after}".objects`);
    if (BEFORE) await pool.query(`ANALYZE "${before}".objects`);
    const tracked = await pool.query(`SELECT ct.term, ct.bound, (SELECT count(*) FROM "${after}".champions c WHERE c.type = ct.type AND c.term = ct.term) AS n FROM "${after}".champion_terms ct WHERE ct.ready`);
    const rows = await pool.query(`SELECT count(*) AS n FROM "${after}".champions`);
    console.log(`${tracked.rows.length} tracked terms, ${rows.rows[0].n} champion rows`);
    // the frequent terms: 'report' (80%) and the most frequent filler words in at least half the objects
    const df = await pool.query(
      `SELECT l.term, count(*) AS df FROM "${after}".objects o, unnest(tsvector_to_array(o.tsv)) l(term) GROUP BY l.term HAVING count(*) >= $1 ORDER BY count(*) DESC LIMIT 6`,
      [N / 2],
    );
    const frequent = df.rows.map((r) => r.term as string);
    console.log('frequent terms (df):', df.rows.map((r) => `${r.term} ${(Number(r.df) / N * 100).toFixed(0)}%`).join(', '));
    if (!frequent.includes(COMMON_TERM)) throw new Error(`${COMMON_TERM} is not among the frequent terms`);

    // exactness: pages 1-3 of every frequent term equal the raw ORDER BY; overlap@20 of page 1
    const exact = async (term: string, limit: number, offset: number) =>
      (await pool.query(RAW_FORMS['type filter, bound tsquery'](after), [BENCH_TYPE, `'${term}'`, limit, offset])).rows.map((r) => r.sid as string);
    let overlap = 0;
    let equalPages = 0;
    const paths0 = projections.rankedPaths();
    for (const term of frequent) {
      let cursor: string | undefined;
      for (let page = 0; page < 3; page++) {
        const got = await stores.after.collection(BENCH_TYPE)._find({ text: term, limit: 20, cursor });
        const want = await exact(term, 20, page * 20);
        if (JSON.stringify(got.items) === JSON.stringify(want)) equalPages++;
        if (page === 0) overlap += got.items.filter((s: unknown) => want.includes(s as string)).length / want.length;
        cursor = got.next_cursor;
      }
    }
    const paths1 = projections.rankedPaths();
    console.log(`pages 1-3 equal to the exact ORDER BY: ${equalPages}/${frequent.length * 3}; overlap@20 ${(overlap / frequent.length).toFixed(3)}; ` +
      `answered from lists ${paths1.champions - paths0.champions}, by GIN ${paths1.gin - paths0.gin}`);

    // latency: interleaved rounds of each subject (TOPK_ONLY=append skips them)
    const kinds: Array<[string, (i: number) => string]> = [
      ['frequent (>= 50%) top-20', (i) => frequent[i % frequent.length]],
      [`${COMMON_TERM} (80%) top-20`, () => COMMON_TERM],
      [`${COMMON_TERM} (80%) pages 1-3`, () => COMMON_TERM],
      ['rare (1%) top-20', (i) => RARE_TERMS[i % RARE_TERMS.length]],
      ['AND (6% + 6%) top-20', (i) => PAIR_TERMS[i % PAIR_TERMS.length].join(' ')],
      [`prefix ${COMMON_TERM.slice(0, 4)}* top-20`, () => `${COMMON_TERM.slice(0, 4)}*`],
    ];
    const perRound = 20;
    for (const [kind, term] of process.env.TOPK_ONLY === 'append' ? [] : kinds) {
      const offset = kind.includes('pages 1-3') ? 40 : 0;
      const samples: Record<string, number[]> = {};
      const subjects: Record<string, (i: number) => Promise<unknown>> = {
        'store, lists': async (i) => {
          let cursor: string | undefined;
          for (let p = 0; p <= offset / 20; p++) cursor = (await stores.after.collection(BENCH_TYPE)._find({ text: term(i), limit: 20, cursor })).next_cursor;
        },
      };
      if (stores.before) {
        subjects['store before'] = async (i) => {
          let cursor: string | undefined;
          for (let p = 0; p <= offset / 20; p++) cursor = (await stores.before.collection(BENCH_TYPE)._find({ text: term(i), limit: 20, cursor })).next_cursor;
        };
      }
      if (!kind.includes('AND') && !kind.includes('prefix')) {
        // pages 1..offset/20+1, one statement each, as the store walks them
        const pages = async (run: (offset: number) => Promise<unknown>) => {
          for (let at = 0; at <= offset; at += 20) await run(at);
        };
        for (const [form, sql] of Object.entries(RAW_FORMS)) subjects[`raw GIN: ${form}`] = (i) => pages((at) => pool.query(sql(after), [BENCH_TYPE, `'${term(i)}'`, 21, at]));
        subjects['raw read of the champions index (floor)'] = (i) =>
          pages((at) => pool.query(`SELECT o.sid FROM (SELECT id FROM "${after}".champions WHERE type = $1 AND term = $2 ORDER BY score DESC, id LIMIT $3 OFFSET $4) c JOIN "${after}".objects o ON o.id = c.id`, [BENCH_TYPE, term(i), 21, at]));
      }
      for (let round = 0; round <= ROUNDS; round++) {
        for (const [name, run] of Object.entries(subjects)) {
          const list = (samples[name] ??= []);
          for (let i = 0; i < perRound; i++) {
            const t = await time(() => run(i));
            if (round > 0) list.push(t); // round 0 warms up
          }
        }
      }
      console.log(`\n${kind} (${ROUNDS} rounds x ${perRound}):`);
      for (const [name, list] of Object.entries(samples)) {
        const { p50, p99 } = stats(list);
        console.log(`  ${name.padEnd(44)} p50 ${ms(p50).padStart(10)}  p99 ${ms(p99).padStart(10)}`);
      }
    }

    // append cost: 1,000 concurrent _new per round, store with lists vs the store before, interleaved
    const batches: Record<string, number[]> = {};
    const subjects = Object.keys(stores);
    const fresh = new DocGenerator(11);
    for (let round = 0; round <= 2 * ROUNDS + 1; round++) {
      for (const name of round % 2 === 0 ? subjects : [...subjects].reverse()) {
        const t = await time(() => Promise.all(Array.from({ length: 1000 }, () => stores[name].collection(BENCH_TYPE)._new(fresh.doc()))));
        if (round > 0) (batches[name] ??= []).push(t);
      }
    }
    console.log('\n1,000 concurrent _new (ms per round, median; all rounds):');
    for (const [name, list] of Object.entries(batches)) console.log(`  ${name.padEnd(14)} ${stats(list).p50.toFixed(0)} ms  [${list.map((x) => x.toFixed(0)).join(', ')}]`);
    if (batches.before) {
      const ratios = batches.after.map((x, i) => x / batches.before[i]);
      console.log(`  after / before: ratio of medians ${(stats(batches.after).p50 / stats(batches.before).p50).toFixed(3)}, median of per-round ratios ${stats(ratios).p50.toFixed(3)}`);
    }
    const postings = await pool.query(`SELECT count(*) AS n FROM "${after}".champions`);
    console.log(`champion rows after the appends: ${postings.rows[0].n}`);
    // exactness again after the appends
    let equalAfter = 0;
    for (const term of frequent) {
      const got = await stores.after.collection(BENCH_TYPE)._find({ text: term, limit: 20 });
      if (JSON.stringify(got.items) === JSON.stringify(await exact(term, 20, 0))) equalAfter++;
    }
    console.log(`page 1 equal to the exact ORDER BY after the appends: ${equalAfter}/${frequent.length}`);
  } finally {
    for (const store of Object.values(stores)) await store.close();
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
