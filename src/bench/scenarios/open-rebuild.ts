import * as path from 'node:path';
import type { BenchContext } from '../context';
import { BENCH_TYPE, bulkSid, countLabel, DocGenerator, NEEDLE_COUNT, NEEDLE_TERM } from '../data';
import { loadDataset } from '../loader';
import { ftsAnd, RawSqliteReader, rawRebuild } from '../raw-sqlite';
import { alternate, now, scenario, type Samples, type Subject } from '../stats';
import { openBenchStore, storeSubject, type StoreTarget } from '../targets';
import type { ScenarioResult } from '../types';

export const RAW_OPEN = 'raw better-sqlite3 open';
export const RAW_REBUILD = 'raw fold + insert';

/**
 * Cold open: `openStore` + first `_get` + first ranked `_find` in a fresh store object, on a small and
 * a large store, against a raw connection doing the same reads. The query's term is in exactly
 * NEEDLE_COUNT objects at every size, so the figure measures opening, not how results grow with size
 * (the find scenarios measure that). The OS page cache stays warm (the
 * benchmark does not drop caches, as the machine is shared); SQLite's own cache starts empty.
 */
export async function runOpen(ctx: BenchContext): Promise<ScenarioResult[]> {
  if (!ctx.wants('open')) return [];
  const sizes = [['small', ctx.sizes.openSmall], ['large', ctx.sizes.openLarge]] as const;
  const dirs: string[] = [];
  try {
    const datasets: { size: string; objects: number; target: StoreTarget; dir: string }[] = [];
    for (const [size, objects] of sizes) {
      for (const target of ctx.targets) {
        const dir = ctx.dir(`open-${size}-${target.backend}`);
        dirs.push(dir);
        ctx.progress(`open.${size}: loading ${countLabel(objects)} objects into ${storeSubject(target)}`);
        await loadDataset(target, dir, { objects, eventsPerObject: 1, seed: 41 });
        datasets.push({ size, objects, target, dir });
      }
    }
    const pick = new DocGenerator(42);
    const text = NEEDLE_TERM;
    const storeRound = (d: (typeof datasets)[number]) => async (): Promise<Samples> => {
      const sid = bulkSid(pick.int(d.objects));
      const start = now();
      const store = await openBenchStore(d.target, d.dir, 'full');
      const docs = store.collection(BENCH_TYPE);
      await docs._get(sid);
      await docs._find({ text, limit: 20 });
      const ms = now() - start;
      await store.close();
      return { latencies: [ms], totalMs: ms, units: 1 };
    };
    const rawRound = (d: (typeof datasets)[number]) => (): Samples => {
      const sid = bulkSid(pick.int(d.objects));
      const start = now();
      const reader = new RawSqliteReader(d.target.projectionsFile(d.dir));
      reader.get(sid);
      reader.find(ftsAnd([text]), 20);
      const ms = now() - start;
      reader.close();
      return { latencies: [ms], totalMs: ms, units: 1 };
    };
    const bySize = sizes.map(([size, objects]) => {
      const own = datasets.filter((d) => d.size === size);
      const subjects: Subject[] = own.map((d) => ({ name: storeSubject(d.target), baseline: false, round: storeRound(d) }));
      subjects.push({ name: RAW_OPEN, baseline: true, round: rawRound(own[0]) });
      return { size, objects, subjects };
    });
    ctx.progress(`open: ${ctx.sizes.openRepeats} cold opens + first _get + first _find per subject and size`);
    // One interleaved run over both sizes, so small and large see the same machine.
    const measured = await alternate(bySize.flatMap((s) => s.subjects.map((subject) => ({ ...subject, name: `${s.size}\0${subject.name}` }))), ctx.sizes.openRepeats, 1);
    return bySize.map(({ size, objects, subjects }) =>
      scenario(
        { id: `open.${size}`, title: `cold open + first _get + first _find, ${countLabel(objects)} objects`, sample: 'open+get+find', unit: 'opens', params: { objects, repeats: ctx.sizes.openRepeats, text: NEEDLE_TERM, matches: NEEDLE_COUNT } },
        subjects,
        new Map(subjects.map((s) => [s.name, measured.get(`${size}\0${s.name}`)!])),
      ),
    );
  } finally {
    for (const dir of dirs) ctx.drop(dir);
  }
}

/** `store.rebuild()` over objects × events-per-object events, including FTS, against a raw fold + insert. */
export async function runRebuild(ctx: BenchContext): Promise<ScenarioResult[]> {
  if (!ctx.wants('rebuild')) return [];
  const { rebuildObjects: objects, rebuildEventsPerObject: perObject, rebuildRounds: rounds } = ctx.sizes;
  const events = objects * perObject;
  const dirs: string[] = [];
  try {
    const subjects: Subject[] = [];
    let rawSource: string | undefined;
    for (const target of ctx.targets) {
      const dir = ctx.dir(`rebuild-${target.backend}`);
      dirs.push(dir);
      ctx.progress(`rebuild: loading ${countLabel(events)} events (${countLabel(objects)} objects x ${perObject}) into ${storeSubject(target)}`);
      const loaded = await loadDataset(target, dir, { objects, eventsPerObject: perObject, seed: 51 });
      ctx.notes.push(`rebuild dataset (${storeSubject(target)}): ${countLabel(events)} events; ${loaded.method}; load ${(loaded.loadMs / 1000).toFixed(1)} s`);
      if (target.sqliteLog && !rawSource) rawSource = target.projectionsFile(dir);
      subjects.push({
        name: storeSubject(target),
        baseline: false,
        round: async () => {
          const store = await openBenchStore(target, dir, 'normal');
          try {
            const start = now();
            const result = await store.rebuild();
            const ms = now() - start;
            return { latencies: [ms], totalMs: ms, units: result.events };
          } finally {
            await store.close();
          }
        },
      });
    }
    if (rawSource) {
      const source = rawSource;
      const out = path.join(ctx.dir('rebuild-raw'), 'raw-rebuild.db');
      dirs.push(path.dirname(out));
      subjects.push({
        name: RAW_REBUILD,
        baseline: true,
        round: () => {
          const start = now();
          const result = rawRebuild(source, out);
          const ms = now() - start;
          return { latencies: [ms], totalMs: ms, units: result.events };
        },
      });
    }
    ctx.progress(`rebuild: ${rounds} rebuild(s) per subject`);
    const measured = await alternate(subjects, rounds, 0);
    return [
      scenario(
        { id: 'rebuild', title: `rebuild incl. FTS, ${countLabel(events)} events (${countLabel(objects)} objects x ${perObject})`, sample: 'rebuild', unit: 'events', params: { events, objects, rounds } },
        subjects,
        measured,
      ),
    ];
  } finally {
    for (const dir of dirs) ctx.drop(dir);
  }
}
