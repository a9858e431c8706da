import * as path from 'node:path';
import type { Store } from '../../index';
import type { Durability } from '../../index';
import type { BenchContext } from '../context';
import { BENCH_TYPE, DocGenerator } from '../data';
import { AppendOnlyFile, FilePerObjectStore } from '../raw-files';
import { RawSqliteWriter } from '../raw-sqlite';
import { alternate, scenario, timeEach, timeEachSync, timeOnce, type Samples, type Subject } from '../stats';
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

type Doc = ReturnType<DocGenerator['doc']>;

/** A round that makes `n` objects and times each `write(doc)`. */
function eachDoc(gen: DocGenerator, n: number, write: (doc: Doc) => unknown): () => Promise<Samples> {
  return () => {
    const docs = gen.docs(n);
    return timeEach(n, (i) => write(docs[i]));
  };
}

/** The same for synchronous writers (no event-loop turn between writes). */
function eachDocSync(gen: DocGenerator, n: number, write: (doc: Doc) => unknown): () => Samples {
  return () => {
    const docs = gen.docs(n);
    return timeEachSync(n, (i) => write(docs[i]));
  };
}

/** A round that makes `n` objects and times `write(docs)` as one sample. */
function wholeBatch(gen: DocGenerator, n: number, write: (docs: Doc[]) => unknown): () => Promise<Samples> {
  return () => {
    const docs = gen.docs(n);
    return timeOnce(() => write(docs), n);
  };
}

async function oneAtATime(ctx: BenchContext, id: string, durability: Durability, w: Writers): Promise<ScenarioResult> {
  const total = durability === 'full' ? ctx.sizes.oneFull : ctx.sizes.oneNormal;
  const rounds = ctx.sizes.rounds;
  const perRound = Math.max(1, Math.ceil(total / rounds));
  ctx.progress(`${id}: ${perRound * rounds} objects one at a time per subject, ${rounds} interleaved rounds`);
  const gen = new DocGenerator(11);
  const subjects: Subject[] = w.stores.map(({ name, store }) => {
    const docs = store.collection(BENCH_TYPE);
    return { name, baseline: false, round: eachDoc(gen, perRound, (doc) => docs._new(doc)) };
  });
  subjects.push({ name: RAW_SQLITE, baseline: true, round: eachDocSync(gen, perRound, (doc) => w.raw.insertOne(doc)) });
  const { filePerObject, appendOnly } = w;
  if (filePerObject) subjects.push({ name: FILE_PER_OBJECT, baseline: true, round: eachDocSync(gen, perRound, (doc) => filePerObject.writeSync(doc)) });
  if (appendOnly) subjects.push({ name: APPEND_ONLY, baseline: true, round: eachDocSync(gen, perRound, (doc) => appendOnly.append(doc)) });
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
    return { name, baseline: false, round: wholeBatch(gen, size, (batch) => Promise.all(batch.map((doc) => docs._new(doc)))) };
  });
  subjects.push({ name: RAW_SQLITE, baseline: true, round: wholeBatch(gen, size, (batch) => w.raw.insertMany(batch)) });
  const { filePerObject, appendOnly } = w;
  if (filePerObject) {
    // Concurrent through the async fs API, so libuv's thread pool overlaps the fsyncs.
    subjects.push({ name: FILE_PER_OBJECT, baseline: true, round: wholeBatch(gen, size, (batch) => Promise.all(batch.map((doc) => filePerObject.write(doc)))) });
  }
  if (appendOnly) {
    // One fdatasync per record by definition: an append-only file cannot share them without group commit.
    subjects.push({ name: APPEND_ONLY, baseline: true, round: wholeBatch(gen, size, (batch) => batch.forEach((doc) => appendOnly.append(doc))) });
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
