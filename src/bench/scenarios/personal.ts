import type { Durability, Store } from '../../index';
import type { BenchContext } from '../context';
import { BENCH_TYPE, DocGenerator, RARE_TERMS, countLabel } from '../data';
import { alternate, scenario, timeEach, timeOnce, type Subject } from '../stats';
import type { StoreTarget } from '../targets';
import type { ScenarioResult } from '../types';
import { openStore } from '../../index';

/** The same type with and without personal fields: `title` (full text) and `email` (unique) sealed per object. */
const PLAIN_SCHEMA = { types: { [BENCH_TYPE]: { text: ['title', 'body'], unique: ['email'] } } };
const PERSONAL_SCHEMA = { types: { [BENCH_TYPE]: { ...PLAIN_SCHEMA.types[BENCH_TYPE], personal: ['title', 'email'] } } };

interface Pair {
  plain: Store;
  personal: Store;
  dirs: string[];
}

async function openPair(ctx: BenchContext, target: StoreTarget, name: string, durability: Durability): Promise<Pair> {
  const dirs = [ctx.dir(`${name}-${target.backend}-plain`), ctx.dir(`${name}-${target.backend}-personal`)];
  const plain = await openStore(target.url(dirs[0]), { schema: PLAIN_SCHEMA, durability });
  const personal = await openStore(target.url(dirs[1]), { schema: PERSONAL_SCHEMA, durability });
  return { plain, personal, dirs };
}

async function closePair(ctx: BenchContext, pair: Pair): Promise<void> {
  await pair.plain.close();
  await pair.personal.close();
  for (const dir of pair.dirs) ctx.drop(dir);
}

const withEmail = (doc: ReturnType<DocGenerator['doc']>, i: number) => ({ ...doc, email: `person${i}@example.org` });

/** The two subjects of a pair: the store without personal fields is the baseline of the one with them. */
function pairSubjects(target: StoreTarget, pair: Pair, round: (store: Store, r: number) => ReturnType<Subject['round']>): Subject[] {
  return [
    { name: `store ${target.backend}: no personal fields`, baseline: true, round: (r) => round(pair.plain, r) },
    { name: `store ${target.backend}: personal title+email`, baseline: false, round: (r) => round(pair.personal, r) },
  ];
}

/**
 * `--only erase`: the cost of personal fields (issue 14), as same-run ratios of a store whose type seals
 * `title` and `email` to the same store without: `_new` (durability normal and full), `_get`, `_find`
 * (full text over a sealed field), rebuild; and `_erase` itself, against `_delete` of the same objects.
 */
export async function runPersonal(ctx: BenchContext): Promise<ScenarioResult[]> {
  if (!ctx.wants('erase')) return [];
  const results: ScenarioResult[] = [];
  const { rounds, getObjects, getOps, findQueries, rebuildRounds } = ctx.sizes;
  for (const target of ctx.targets) {
    for (const durability of ['normal', 'full'] as Durability[]) {
      const id = `erase.new.${durability}.${target.backend}`;
      if (!ctx.wants(id)) continue;
      const count = durability === 'full' ? ctx.sizes.oneFull : ctx.sizes.oneNormal;
      const perRound = Math.max(1, Math.ceil(count / rounds));
      ctx.progress(`${id}: ${perRound * rounds} _new one at a time per subject`);
      const pair = await openPair(ctx, target, 'erase-new', durability);
      try {
        const gen = new DocGenerator(41);
        const docs = gen.docs(perRound * (rounds + 1));
        const subjects = pairSubjects(target, pair, (store, r) =>
          timeEach(perRound, (i) => store.collection(BENCH_TYPE)._new(withEmail(docs[(r + 1) * perRound + i], (r + 1) * perRound + i))),
        );
        const measured = await alternate(subjects, rounds, 1);
        results.push(scenario({ id, title: `_new one at a time, durability ${durability}, personal vs none (${target.backend})`, sample: 'op', unit: 'objects', params: { objects: perRound * rounds } }, subjects, measured));
      } finally {
        await closePair(ctx, pair);
      }
    }
    const readIds = ['get', 'find', 'rebuild', 'erase'].map((s) => `erase.${s}.${target.backend}`);
    if (!readIds.some((id) => ctx.wants(id))) continue;
    ctx.progress(`erase (${target.backend}): ${getObjects} objects with 2 updates each, per subject`);
    const pair = await openPair(ctx, target, 'erase-read', 'normal');
    try {
      const sids = await fillPair(pair, getObjects);
      if (ctx.wants(readIds[0])) {
        const perRound = Math.ceil(getOps / rounds);
        const pick = new DocGenerator(43);
        const order = Array.from({ length: perRound }, () => pick.int(getObjects));
        const subjects = pairSubjects(target, pair, (store) => timeEach(perRound, (i) => store.collection(BENCH_TYPE)._get(sids[order[i]])));
        results.push(scenario({ id: readIds[0], title: `_get by sid, ${countLabel(getObjects)} objects, personal vs none (${target.backend})`, sample: 'op', unit: 'reads', params: { objects: getObjects, reads: perRound * rounds } }, subjects, await alternate(subjects, rounds, 1)));
      }
      if (ctx.wants(readIds[1])) {
        const perRound = Math.max(1, Math.ceil(findQueries / rounds));
        const subjects = pairSubjects(target, pair, (store) =>
          timeEach(perRound, (i) => store.collection(BENCH_TYPE)._find_full({ text: RARE_TERMS[i % RARE_TERMS.length], limit: 20 })),
        );
        results.push(scenario({ id: readIds[1], title: `_find_full, rare term, ${countLabel(getObjects)} objects, personal vs none (${target.backend})`, sample: 'query', unit: 'queries', params: { objects: getObjects, queries: perRound * rounds } }, subjects, await alternate(subjects, rounds, 1)));
      }
      if (ctx.wants(readIds[2])) {
        const subjects = pairSubjects(target, pair, (store) => timeOnce(() => store.rebuild(), getObjects * 3));
        results.push(scenario({ id: readIds[2], title: `rebuild, ${countLabel(getObjects * 3)} events, personal vs none (${target.backend})`, sample: 'rebuild', unit: 'events', params: { objects: getObjects, events: getObjects * 3 } }, subjects, await alternate(subjects, Math.max(1, rebuildRounds), 0)));
      }
      if (ctx.wants(readIds[3])) {
        const per = Math.max(1, Math.min(200, Math.floor(getObjects / (rounds + 1))));
        const subjects: Subject[] = [
          { name: `store ${target.backend}: _delete (no personal fields)`, baseline: true, round: (r) => timeEach(per, (i) => pair.plain.collection(BENCH_TYPE)._delete(sids[r * per + i])) },
          { name: `store ${target.backend}: _erase`, baseline: false, round: (r) => timeEach(per, (i) => pair.personal.collection(BENCH_TYPE)._erase(sids[r * per + i])) },
        ];
        results.push(scenario({ id: readIds[3], title: `_erase vs _delete, ${countLabel(getObjects)} objects (${target.backend})`, sample: 'op', unit: 'objects', params: { objects: getObjects, erased: per * rounds } }, subjects, await alternate(subjects, rounds, 0)));
      }
    } finally {
      await closePair(ctx, pair);
    }
  }
  if (results.length > 0) ctx.notes.push('erase.*: ratios are the store with personal fields (title, email) over the same store without; erase.erase compares _erase with _delete');
  return results;
}

/** The same objects in both stores, under the same sids: created in batches of 1,000, then updated twice. */
async function fillPair(pair: Pair, objects: number): Promise<string[]> {
  const gen = new DocGenerator(42);
  const sids = Array.from({ length: objects }, (_, i) => `d${i}`);
  for (const store of [pair.plain, pair.personal]) {
    const docs = store.collection(BENCH_TYPE);
    for (let made = 0; made < objects; made += 1000) {
      const batch = gen.docs(Math.min(1000, objects - made), made);
      await Promise.all(batch.map((doc, i) => docs._new(withEmail(doc, made + i), { sid: sids[made + i] })));
    }
    for (let pass = 0; pass < 2; pass++) {
      for (let made = 0; made < objects; made += 1000) {
        await Promise.all(sids.slice(made, made + 1000).map((sid) => docs._update(sid, { n: pass })));
      }
    }
  }
  return sids;
}
