import * as path from 'node:path';
import type { Store } from '../../api/store';
import type { Durability } from '../../log/event-log';
import type { BenchContext } from '../context';
import { BENCH_TYPE, DocGenerator } from '../data';
import { AppendOnlyFile, FilePerObjectStore } from '../raw-files';
import { RawSqliteWriter } from '../raw-sqlite';
import { alternate, scenario, timeEach, timeEachSync, timeOnce, type Subject } from '../stats';
import { openBenchStore, storeSubject } from '../targets';
import type { ScenarioResult } from '../types';

export const RAW_SQLITE = 'raw better-sqlite3';
export const FILE_PER_OBJECT = 'file-per-object (tmp+fsync+rename)';
export const APPEND_ONLY = 'append-only file (write+fdatasync)';

/**
 * `_new` one at a time and 1,000 at once (Promise.all), at durability normal and full, against raw
 * better-sqlite3 transactions writing the same event and current-state rows; at full also against the
 * file baselines of issue 3.
 */
export async function runWrites(ctx: BenchContext): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const durability of ['normal', 'full'] as Durability[]) {
    const one = `new.one.${durability}`;
    const batch = `new.batch.${durability}`;
    if (!ctx.wants(one) && !ctx.wants(batch)) continue;
    const fixture = await openWriters(ctx, durability);
    try {
      if (ctx.wants(one)) results.push(await oneAtATime(ctx, one, durability, fixture));
      if (ctx.wants(batch)) results.push(await concurrent(ctx, batch, durability, fixture));
    } finally {
      await fixture.close();
    }
  }
  return results;
}

interface Writers {
  stores: { name: string; store: Store }[];
  raw: RawSqliteWriter;
  filePerObject?: FilePerObjectStore;
  appendOnly?: AppendOnlyFile;
  close(): Promise<void>;
}

async function openWriters(ctx: BenchContext, durability: Durability): Promise<Writers> {
  const stores: Writers['stores'] = [];
  const dirs: string[] = [];
  for (const target of ctx.targets) {
    const dir = ctx.dir(`new-${durability}-${target.backend}`);
    dirs.push(dir);
    stores.push({ name: storeSubject(target), store: await openBenchStore(target, dir, durability) });
  }
  const rawDir = ctx.dir(`new-${durability}-raw`);
  dirs.push(rawDir);
  const writers: Writers = {
    stores,
    raw: new RawSqliteWriter(path.join(rawDir, 'raw.db'), durability),
    async close() {
      for (const { store } of stores) await store.close();
      writers.raw.close();
      writers.appendOnly?.close();
      for (const dir of dirs) ctx.drop(dir);
    },
  };
  if (durability === 'full') {
    writers.filePerObject = new FilePerObjectStore(path.join(rawDir, 'otoml'));
    writers.appendOnly = new AppendOnlyFile(path.join(rawDir, 'append.log'));
  }
  return writers;
}

async function oneAtATime(ctx: BenchContext, id: string, durability: Durability, w: Writers): Promise<ScenarioResult> {
  const total = durability === 'full' ? ctx.sizes.oneFull : ctx.sizes.oneNormal;
  const rounds = ctx.sizes.rounds;
  const perRound = Math.max(1, Math.ceil(total / rounds));
  ctx.progress(`${id}: ${perRound * rounds} objects one at a time per subject, ${rounds} interleaved rounds`);
  const gen = new DocGenerator(11);
  const subjects: Subject[] = w.stores.map(({ name, store }) => {
    const docs = store.collection(BENCH_TYPE);
    return { name, baseline: false, round: () => { const d = gen.docs(perRound); return timeEach(perRound, (i) => docs._new(d[i])); } };
  });
  subjects.push({ name: RAW_SQLITE, baseline: true, round: () => { const d = gen.docs(perRound); return timeEachSync(perRound, (i) => w.raw.insertOne(d[i])); } });
  if (w.filePerObject) {
    const fpo = w.filePerObject;
    subjects.push({ name: FILE_PER_OBJECT, baseline: true, round: () => { const d = gen.docs(perRound); return timeEachSync(perRound, (i) => fpo.writeSync(d[i])); } });
  }
  if (w.appendOnly) {
    const log = w.appendOnly;
    subjects.push({ name: APPEND_ONLY, baseline: true, round: () => { const d = gen.docs(perRound); return timeEachSync(perRound, (i) => log.append(d[i])); } });
  }
  const measured = await alternate(subjects, rounds, 1);
  return scenario(
    { id, title: `_new one at a time, durability ${durability}`, sample: 'op', unit: 'objects', params: { objects: perRound * rounds, rounds, durability } },
    subjects,
    measured,
  );
}

async function concurrent(ctx: BenchContext, id: string, durability: Durability, w: Writers): Promise<ScenarioResult> {
  const size = ctx.sizes.batch;
  const rounds = durability === 'full' ? ctx.sizes.batchRoundsFull : ctx.sizes.batchRoundsNormal;
  ctx.progress(`${id}: ${rounds} batches of ${size} concurrent _new per subject`);
  const gen = new DocGenerator(12);
  const subjects: Subject[] = w.stores.map(({ name, store }) => {
    const docs = store.collection(BENCH_TYPE);
    return { name, baseline: false, round: () => { const d = gen.docs(size); return timeOnce(() => Promise.all(d.map((doc) => docs._new(doc))), size); } };
  });
  subjects.push({ name: RAW_SQLITE, baseline: true, round: () => { const d = gen.docs(size); return timeOnce(() => w.raw.insertMany(d), size); } });
  if (w.filePerObject) {
    const fpo = w.filePerObject;
    subjects.push({ name: FILE_PER_OBJECT, baseline: true, round: () => { const d = gen.docs(size); return timeOnce(() => Promise.all(d.map((doc) => fpo.write(doc))), size); } });
  }
  if (w.appendOnly) {
    const log = w.appendOnly;
    subjects.push({ name: APPEND_ONLY, baseline: true, round: () => { const d = gen.docs(size); return timeOnce(() => d.forEach((doc) => log.append(doc)), size); } });
  }
  const measured = await alternate(subjects, rounds, 1);
  return scenario(
    {
      id,
      title: `${size} concurrent _new (Promise.all), durability ${durability}`,
      sample: `batch of ${size}`,
      unit: 'objects',
      params: { batch: size, rounds, durability },
    },
    subjects,
    measured,
  );
}
