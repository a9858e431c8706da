import Database from 'better-sqlite3';
import type { Store } from '../index';
import type { EventKind, ProposedEvent } from '../index';
import { BENCH_TYPE, bulkSid, DocGenerator } from './data';
import { fastUlid } from './fast-ulid';
import { now } from './stats';
import { openBenchStore, type StoreTarget } from './targets';

/** A generated log: `objects` objects, each created and then updated `eventsPerObject - 1` times. */
export interface DatasetSpec {
  objects: number;
  eventsPerObject: number;
  seed: number;
}

/** What loading took. */
export interface LoadedDataset {
  events: number;
  loadMs: number;
  rebuildMs: number;
  /** How the events were written. */
  method: string;
}

interface BenchEvent {
  sid: string;
  kind: EventKind;
  version: number;
  data: Record<string, unknown>;
}

/** The dataset's events in log order: every object's create, then update round after round. */
function* datasetEvents(spec: DatasetSpec): Generator<BenchEvent> {
  const gen = new DocGenerator(spec.seed);
  for (let version = 1; version <= spec.eventsPerObject; version++) {
    for (let i = 0; i < spec.objects; i++) {
      const sid = bulkSid(i);
      yield { sid, kind: version === 1 ? 'created' : 'updated', version, data: { sid, ...gen.doc(i) } };
    }
  }
}

const CHUNK = 20_000;

/** SQLite log: insert the event rows straight into the `events` table through a second connection. */
export function insertIntoSqliteLog(file: string, spec: DatasetSpec): number {
  const db = new Database(file);
  try {
    db.pragma('synchronous = OFF');
    const insert = db.prepare('INSERT INTO events (id, type, sid, kind, version, ts, data, meta) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)');
    const total = spec.objects * spec.eventsPerObject;
    const start = Date.now() - total;
    let n = 0;
    const chunk = db.transaction((events: BenchEvent[]) => {
      for (const e of events) {
        const ts = start + n++;
        insert.run(fastUlid(ts), BENCH_TYPE, e.sid, e.kind, e.version, ts, JSON.stringify(e.data));
      }
    });
    let pending: BenchEvent[] = [];
    for (const event of datasetEvents(spec)) {
      pending.push(event);
      if (pending.length === CHUNK) {
        chunk.immediate(pending);
        pending = [];
      }
    }
    if (pending.length > 0) chunk.immediate(pending);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return n;
  } finally {
    db.close();
  }
}

/** Any backend: atomic appends of CHUNK events through the store's EventLog, projections left behind. */
async function appendThroughLog(store: Store, spec: DatasetSpec): Promise<number> {
  let n = 0;
  let pending: ProposedEvent[] = [];
  for (const e of datasetEvents(spec)) {
    pending.push({ type: BENCH_TYPE, sid: e.sid, kind: e.kind, data: e.data });
    if (pending.length === CHUNK) {
      n += (await store.eventLog.append(pending)).length;
      pending = [];
    }
  }
  if (pending.length > 0) n += (await store.eventLog.append(pending)).length;
  return n;
}

/**
 * Fill a new store in `dir` with a generated log and derive its projections with `store.rebuild()`.
 * The store has no bulk import path, so the events are written straight into the SQLite log tables
 * (SQLite backend) or appended in large atomic batches through the EventLog (other backends).
 */
export async function loadDataset(target: StoreTarget, dir: string, spec: DatasetSpec): Promise<LoadedDataset> {
  const store = await openBenchStore(target, dir, 'normal');
  try {
    const t0 = now();
    const events = target.sqliteLog ? insertIntoSqliteLog(target.projectionsFile(dir), spec) : await appendThroughLog(store, spec);
    const t1 = now();
    await store.rebuild();
    const t2 = now();
    const method = target.sqliteLog
      ? 'event rows inserted straight into the sqlite events table, then store.rebuild()'
      : `EventLog.append of ${CHUNK}-event batches, then store.rebuild()`;
    return { events, loadMs: t1 - t0, rebuildMs: t2 - t1, method };
  } finally {
    await store.close();
  }
}
