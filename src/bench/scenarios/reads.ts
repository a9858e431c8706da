import type { Store } from '../../index';
import type { BenchContext } from '../context';
import { BENCH_TYPE, COMMON_TERM, countLabel, DocGenerator, PAIR_TERMS, RARE_TERMS, RARE_P, PAIR_P, COMMON_P } from '../data';
import { loadDataset } from '../loader';
import { ftsAnd, RawSqliteReader } from '../raw-sqlite';
import { alternate, scenario, timeEach, timeEachSync, type Subject } from '../stats';
import { openBenchStore, storeSubject } from '../targets';
import type { ScenarioResult } from '../types';
import { RAW_SQLITE } from './writes';

export const RAW_FTS5 = 'raw FTS5';

/** `_get` by sid against a raw prepared select on (type, sid) + JSON.parse over the same rows. */
export async function runGet(ctx: BenchContext): Promise<ScenarioResult[]> {
  if (!ctx.wants('get')) return [];
  const { getObjects, getOps, rounds } = ctx.sizes;
  ctx.progress(`get: ${getOps} random _get over ${getObjects} objects per subject`);
  const opened: { name: string; store: Store; dir: string; sids: string[] }[] = [];
  let raw: RawSqliteReader | undefined;
  try {
    for (const target of ctx.targets) {
      const dir = ctx.dir(`get-${target.backend}`);
      const store = await openBenchStore(target, dir, 'normal');
      opened.push({ name: storeSubject(target), store, dir, sids: [] });
      const gen = new DocGenerator(21);
      const docs = store.collection(BENCH_TYPE);
      for (let made = 0; made < getObjects; made += 1000) {
        const batch = gen.docs(Math.min(1000, getObjects - made));
        const created = await Promise.all(batch.map((doc) => docs._new(doc)));
        for (const c of created) opened[opened.length - 1].sids.push(c.sid as string);
      }
      if (!raw) raw = new RawSqliteReader(target.projectionsFile(dir));
    }
    const reader = raw!;
    const rawSids = opened[0].sids;
    const perRound = Math.ceil(getOps / rounds);
    const pick = new DocGenerator(22);
    const order = Array.from({ length: perRound }, () => pick.int(getObjects));
    const subjects: Subject[] = opened.map(({ name, store, sids }) => {
      const docs = store.collection(BENCH_TYPE);
      return { name, baseline: false, round: () => timeEach(perRound, (i) => docs._get(sids[order[i]])) };
    });
    subjects.push({ name: RAW_SQLITE, baseline: true, round: () => timeEachSync(perRound, (i) => reader.get(rawSids[order[i]])) });
    const measured = await alternate(subjects, rounds, 1);
    return [
      scenario(
        { id: 'get', title: `_get by sid, ${countLabel(getObjects)} objects`, sample: 'op', unit: 'reads', params: { objects: getObjects, reads: perRound * rounds } },
        subjects,
        measured,
      ),
    ];
  } finally {
    raw?.close();
    for (const o of opened) {
      await o.store.close();
      ctx.drop(o.dir);
    }
  }
}

/** The three query shapes, each rotating over its planted terms. */
const QUERIES = [
  { kind: 'rare', describe: `one term in ${RARE_P * 100}% of objects`, terms: RARE_TERMS.map((t) => [t]) },
  { kind: 'and', describe: `two terms each in ${PAIR_P * 100}% of objects (AND)`, terms: PAIR_TERMS.map((p) => [...p]) },
  { kind: 'common', describe: `one term in ${COMMON_P * 100}% of objects`, terms: [[COMMON_TERM]] },
] as const;

/** Ranked full-text `_find` (limit 20) over generated datasets, against raw FTS5 on the same index. */
export async function runFind(ctx: BenchContext): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const [size, objects] of [['small', ctx.sizes.findSmall], ['large', ctx.sizes.findLarge]] as const) {
    const ids = QUERIES.map((q) => `find.${size}.${q.kind}`);
    if (!ids.some((id) => ctx.wants(id))) continue;
    const opened: { name: string; store: Store; dir: string }[] = [];
    let raw: RawSqliteReader | undefined;
    try {
      for (const target of ctx.targets) {
        const dir = ctx.dir(`find-${size}-${target.backend}`);
        ctx.progress(`find.${size}: loading ${countLabel(objects)} objects into ${storeSubject(target)}`);
        const loaded = await loadDataset(target, dir, { objects, eventsPerObject: 1, seed: 31 });
        ctx.notes.push(
          `find.${size} dataset (${storeSubject(target)}): ${countLabel(objects)} objects; ${loaded.method}; ` +
            `load ${(loaded.loadMs / 1000).toFixed(1)} s, rebuild ${(loaded.rebuildMs / 1000).toFixed(1)} s ` +
            `(${Math.round(loaded.events / (loaded.rebuildMs / 1000))} ev/s incl. FTS)`,
        );
        opened.push({ name: storeSubject(target), store: await openBenchStore(target, dir, 'normal'), dir });
        if (!raw) raw = new RawSqliteReader(target.projectionsFile(dir));
      }
      const reader = raw!;
      for (const [q, id] of QUERIES.map((q, i) => [q, ids[i]] as const)) {
        if (!ctx.wants(id)) continue;
        const count = q.kind === 'common' ? ctx.sizes.findCommonQueries : ctx.sizes.findQueries;
        const rounds = Math.min(ctx.sizes.rounds, count);
        const perRound = Math.ceil(count / rounds);
        ctx.progress(`${id}: ${perRound * rounds} queries per subject (${q.describe})`);
        const terms = q.terms;
        const subjects: Subject[] = opened.map(({ name, store }) => {
          const docs = store.collection(BENCH_TYPE);
          return { name, baseline: false, round: () => timeEach(perRound, (i) => docs._find({ text: terms[i % terms.length].join(' '), limit: 20 })) };
        });
        const expressions = terms.map((t) => ftsAnd(t));
        subjects.push({ name: RAW_FTS5, baseline: true, round: () => timeEachSync(perRound, (i) => reader.find(expressions[i % expressions.length], 20)) });
        const measured = await alternate(subjects, rounds, 1);
        results.push(
          scenario(
            {
              id,
              title: `ranked _find limit 20, ${countLabel(objects)} objects, ${q.describe}`,
              sample: 'query',
              unit: 'queries',
              params: { objects, queries: perRound * rounds, terms: terms.map((t) => t.join(' ')).join(', ') },
            },
            subjects,
            measured,
          ),
        );
      }
    } finally {
      raw?.close();
      for (const o of opened) {
        await o.store.close();
        ctx.drop(o.dir);
      }
    }
  }
  return results;
}
