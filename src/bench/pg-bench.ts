/**
 * The PostgreSQL benchmark (`osis bench --pg URL`): a `postgres:` store through its public API beside
 * raw `pg` statements doing the same rows, in one run with interleaved rounds, on scratch schemas of the
 * given database that are dropped afterwards. Figures are ratios; published marks are quoted beside.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { openStore, type Store } from '../index';
import { BENCH_SCHEMA, BENCH_TYPE, COMMON_TERM, DocGenerator, RARE_TERMS, bulkSid } from './data';
import { benchFeed } from './feed-bench';
import { RawPg } from './raw-pg';
import { alternate, now, scenario, timeEach, timeOnce, type Subject } from './stats';
import type { BenchReport, ScenarioResult } from './types';

/** Options of `runPgBench`. */
export interface PgBenchOptions {
  /** The PostgreSQL database to use (`postgres://…`); scratch schemas are created in it and dropped. */
  url: string;
  /** Objects loaded for the read scenarios (default 100,000; quick: 2,000). */
  objects?: number;
  quick?: boolean;
  progress?: (line: string) => void;
}

const STORE = 'store postgres:';

/** What the bench reads of the PostgreSQL projection store behind the public API: its promotion pass and ranked-page counters. */
interface PgChampionView {
  promote(): Promise<unknown>;
  rankedPaths(): { champions: number; gin: number };
}
const RAW = 'raw pg';

/** `url` with the store's schema parameter set to `schema`. */
function inSchema(url: string, schema: string): string {
  const [base, query = ''] = url.split('?', 2);
  const params = query.split('&').filter((p) => p !== '' && !p.startsWith('schema='));
  return `${base}?${[...params, `schema=${schema}`].join('&')}`;
}

/** Run every PostgreSQL scenario and report them as `osis bench` does. */
export async function runPgBench(options: PgBenchOptions): Promise<BenchReport> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`bench: ${line}\n`));
  const quick = options.quick === true;
  const objects = options.objects ?? (quick ? 2_000 : 100_000);
  const started = now();
  const startedAt = new Date().toISOString();
  const load = os.loadavg()[0];
  const storeSchema = `bench_store_${randomBytes(5).toString('hex')}`;
  const url = inSchema(options.url, storeSchema);
  const raw = new RawPg(options.url, 16);
  await raw.create();
  const store = await openStore(url, { schema: BENCH_SCHEMA, durability: 'full' });
  const scenarios: ScenarioResult[] = [];
  const notes: string[] = [`store schema ${storeSchema}, raw schema ${raw.schema}: both dropped after the run`];
  try {
    const gen = new DocGenerator(5);
    const docs = store.collection(BENCH_TYPE);
    const clients = 16;
    const perClient = quick ? 10 : 100;
    progress(`new.clients: ${clients} concurrent clients, ${perClient} _new each, 3 rounds`);
    const concurrentClients = (write: () => Promise<unknown>) => () =>
      timeOnce(() => Promise.all(Array.from({ length: clients }, async () => { for (let i = 0; i < perClient; i++) await write(); })), clients * perClient);
    const clientSubjects: Subject[] = [
      { name: STORE, baseline: false, round: concurrentClients(() => docs._new(gen.doc())) },
      { name: RAW, baseline: true, round: concurrentClients(() => raw.write(BENCH_TYPE, gen.doc())) },
    ];
    scenarios.push(scenario({ id: 'pg.new.clients', title: `_new from ${clients} concurrent clients in one process, durability full`, sample: `round of ${clients * perClient}`, unit: 'objects', params: { clients, perClient } }, clientSubjects, await alternate(clientSubjects, 3, 1)));
    const batch = quick ? 100 : 1000;
    progress(`new.batch: ${batch} concurrent _new, 5 rounds`);
    const batchSubjects: Subject[] = [
      { name: STORE, baseline: false, round: () => timeOnce(() => Promise.all(Array.from({ length: batch }, () => docs._new(gen.doc()))), batch) },
      { name: RAW, baseline: true, round: () => timeOnce(() => Promise.all(Array.from({ length: batch }, () => raw.write(BENCH_TYPE, gen.doc()))), batch) },
    ];
    scenarios.push(scenario({ id: 'pg.new.batch', title: `${batch} concurrent _new (Promise.all; the store group-commits), durability full`, sample: `batch of ${batch}`, unit: 'objects', params: { batch } }, batchSubjects, await alternate(batchSubjects, 5, 1)));

    progress(`loading ${objects} objects into both`);
    let t = now();
    const loaded = Array.from({ length: objects }, (_, i) => ({ sid: bulkSid(i), ...gen.doc(i) }));
    for (let i = 0; i < objects; i += 1000) {
      await store.eventLog.append(loaded.slice(i, i + 1000).map((d) => ({ type: BENCH_TYPE, sid: d.sid, kind: 'created' as const, data: d })));
    }
    const storeLoadMs = now() - t;
    t = now();
    await raw.load(BENCH_TYPE, loaded);
    notes.push(`loaded ${objects} objects: store (log + projections in the append transaction) ${(storeLoadMs / 1000).toFixed(1)} s, raw multi-row INSERT ${((now() - t) / 1000).toFixed(1)} s`);
    // The champion lists are promoted in the background while a type grows: let the last pass finish.
    const projections = (store as unknown as { backend: { projections: PgChampionView } }).backend.projections;
    await projections.promote();
    await store.collection(BENCH_TYPE)._find({ text: COMMON_TERM, limit: 1 });
    const pathsBefore = projections.rankedPaths();

    const reads = quick ? 200 : 5000;
    const pick = (i: number) => loaded[(i * 7919) % objects].sid;
    const getSubjects: Subject[] = [
      { name: STORE, baseline: false, round: () => timeEach(reads, (i) => docs._get(pick(i))) },
      { name: RAW, baseline: true, round: () => timeEach(reads, (i) => raw.get(BENCH_TYPE, pick(i))) },
    ];
    progress(`get: ${reads} random _get per round, 3 rounds`);
    scenarios.push(scenario({ id: 'pg.get', title: `_get by sid, ${objects} objects`, sample: 'op', unit: 'reads', params: { objects, reads } }, getSubjects, await alternate(getSubjects, 3, 1)));

    for (const [id, label, terms] of [
      ['pg.find.rare', 'one term in 1% of objects', RARE_TERMS],
      ['pg.find.common', 'one term in 80% of objects', [COMMON_TERM]],
    ] as const) {
      const queries = quick ? 5 : id === 'pg.find.rare' ? 100 : 10;
      progress(`${id}: ${queries} queries per round, 3 rounds`);
      const subjects: Subject[] = [
        { name: STORE, baseline: false, round: () => timeEach(queries, (i) => docs._find({ text: terms[i % terms.length], limit: 20 })) },
        { name: RAW, baseline: true, round: () => timeEach(queries, (i) => raw.find(BENCH_TYPE, terms[i % terms.length])) },
      ];
      scenarios.push(scenario({ id, title: `ranked _find limit 20, ${objects} objects, ${label}`, sample: 'query', unit: 'queries', params: { objects, queries } }, subjects, await alternate(subjects, 3, 1)));
    }

    {
      const pages = quick ? 5 : 10;
      progress(`pg.find.common.pages: pages 1-3 of ${COMMON_TERM}, ${pages} walks per round, 3 rounds`);
      const walk = async () => {
        let cursor: string | undefined;
        for (let p = 0; p < 3; p++) cursor = (await docs._find({ text: COMMON_TERM, limit: 20, cursor })).next_cursor;
      };
      const subjects: Subject[] = [
        { name: STORE, baseline: false, round: () => timeEach(pages, () => walk()) },
        { name: RAW, baseline: true, round: () => timeEach(pages, async () => { for (let p = 0; p < 3; p++) await raw.find(BENCH_TYPE, COMMON_TERM, p * 20); }) },
      ];
      scenarios.push(scenario({ id: 'pg.find.common.pages', title: `ranked _find pages 1-3 (limit 20), ${objects} objects, one term in 80% of objects`, sample: 'walk of 3 pages', unit: 'walks', params: { objects, pages } }, subjects, await alternate(subjects, 3, 1)));
      const paths = projections.rankedPaths();
      notes.push(
        `ranked pages answered from champion lists ${paths.champions - pathsBefore.champions}, by GIN ${paths.gin - pathsBefore.gin} (rare terms are below the lists' threshold and go to GIN by design); ` +
          `raw pg ranks with the fastest raw form for the same answer (ts_rank_cd(tsv, q, 1) DESC, id over every GIN match)`,
      );
    }

    progress('open: a second store object (new pool) on the loaded store and on an empty one, 5 rounds');
    const emptyUrl = inSchema(options.url, `${storeSchema}_empty`);
    await (await openStore(emptyUrl, { schema: BENCH_SCHEMA })).close();
    const coldOpen = (target: string) => () => timeOnce(async () => {
      const other: Store = await openStore(target, { schema: BENCH_SCHEMA });
      await other.collection(BENCH_TYPE)._find({ text: RARE_TERMS[0], limit: 20 });
      await other.close();
    }, 1);
    const openSubjects: Subject[] = [
      { name: `${STORE} ${objects} objects`, baseline: false, round: coldOpen(url) },
      { name: `${STORE} empty`, baseline: true, round: coldOpen(emptyUrl) },
    ];
    scenarios.push(scenario({ id: 'pg.open', title: 'open + first ranked _find in a new store object (another host), no replay', sample: 'open+find', unit: 'opens', params: { objects } }, openSubjects, await alternate(openSubjects, 5, 1)));
    await raw.pool.query(`DROP SCHEMA IF EXISTS ${storeSchema}_empty CASCADE`);

    progress('feed: commit in process A to a changes() subscriber in process B');
    const feed = await benchFeed({ url: inSchema(options.url, `${storeSchema}_feed`), writes: quick ? 50 : 300, catchUpEvents: quick ? 1_000 : 20_000 });
    await raw.pool.query(`DROP SCHEMA IF EXISTS ${storeSchema}_feed CASCADE`);
    const f = feed.crossProcessLatencyMs;
    notes.push(`cross-process feed (LISTEN/NOTIFY wake-up, poll safety net): p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms over ${f.samples} writes (goal p99 < 100 ms); catch-up ${Math.round(feed.catchUp.eventsPerSecond)} events/s`);
    notes.push('published marks: commanded 4.9K events/s (one writer, batches of 100) and 8.6K events/s (50 writers)');
  } finally {
    await store.close();
    await raw.pool.query(`DROP SCHEMA IF EXISTS ${storeSchema} CASCADE`).catch(() => undefined);
    await raw.drop();
  }
  const cpus = os.cpus();
  return {
    startedAt,
    durationMs: now() - started,
    quick,
    scale: 1,
    machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage: [load, os.loadavg()[0]] },
    scenarios,
    targets: [],
    skipped: [],
    notes,
  };
}
