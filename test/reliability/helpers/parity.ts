import type Database from 'better-sqlite3';
import BetterSqlite from 'better-sqlite3';
import { expect } from 'chai';
import type { Store } from '../../../src';
import type { StoredEvent } from '../../../src/log/event';
import { foldLog } from '../../../src/projections/fold';
import { writeFold } from '../../../src/projections/sqlite/rebuild';
import { LIVE, ensureProjectionTables, ftsTables } from '../../../src/projections/sqlite/tables';

/** One object as an independent fold of the log says it must be in the current state. */
export interface ExpectedRow {
  type: string;
  sid: string;
  data: string;
  version: number;
  position: number;
  created_at: number;
  updated_at: number;
}

/**
 * Fold events into the `objects` rows they imply, written here from the contract (not from the
 * projection code): created starts an object, updated replaces its data, deleted removes it.
 */
export function foldIndependently(events: readonly StoredEvent[]): ExpectedRow[] {
  const rows = new Map<string, ExpectedRow>();
  for (const e of events) {
    const key = `${e.type}\0${e.sid}`;
    const ms = Date.parse(e.ts);
    if (e.kind === 'deleted') rows.delete(key);
    else if (e.kind === 'created') rows.set(key, { type: e.type, sid: e.sid, data: JSON.stringify(e.data), version: e.version, position: e.position, created_at: ms, updated_at: ms });
    else {
      const row = rows.get(key);
      if (!row) throw new Error(`log has an update of ${key} that does not exist`);
      Object.assign(row, { data: JSON.stringify(e.data), version: e.version, position: e.position, updated_at: ms });
    }
  }
  return [...rows.values()].sort((a, b) => (a.type === b.type ? cmp(a.sid, b.sid) : cmp(a.type, b.type)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The full-text index as (type, sid, term, offset) tuples, read through fts5vocab. */
function fullTextTuples(db: Database.Database): string[] {
  const tuples: string[] = [];
  for (const table of ftsTables(db, LIVE)) {
    const type = table.slice(LIVE.ftsPrefix.length);
    const vocab = `temp.parity_vocab_${type}`;
    db.exec(`DROP TABLE IF EXISTS ${vocab}; CREATE VIRTUAL TABLE ${vocab} USING fts5vocab(main, ${table}, instance);`);
    try {
      const rows = db
        .prepare(`SELECT o.sid AS sid, v.term AS term, v.offset AS off FROM ${vocab} v LEFT JOIN objects o ON o.id = v.doc`)
        .all() as { sid: string | null; term: string; off: number }[];
      for (const r of rows) tuples.push(`${type}\0${r.sid ?? '<no object>'}\0${r.term}\0${r.off}`);
    } finally {
      db.exec(`DROP TABLE IF EXISTS ${vocab}`);
    }
  }
  return tuples.sort();
}

function indexRows(db: Database.Database): unknown[] {
  return db.prepare('SELECT type, field, value, typeof(value) AS t, sid FROM object_index ORDER BY type, field, sid, value').all();
}

/** What `expectProjectionsMatchLog` compared. */
export interface ParityCounts {
  events: number;
  objects: number;
  indexRows: number;
  textTuples: number;
}

/**
 * Assert that every projection of `store` equals a fresh derivation from its log:
 * - the current state (`objects`, including versions, positions and timestamps) equals an independent fold;
 * - the field index and the full-text index equal those of a fresh rebuild into a scratch database;
 * - the current-state checkpoint is the log's head.
 */
export async function expectProjectionsMatchLog(store: Store, label = ''): Promise<ParityCounts> {
  await store.catchUp();
  const engine = store.projectionEngine;
  const events = await store.log.readAll(1);
  const head = events.length > 0 ? events[events.length - 1].position : 0;
  expect(engine.currentState.position(), `${label} current-state checkpoint`).to.equal(head);

  const expected = foldIndependently(events);
  const actual = engine.db
    .prepare('SELECT type, sid, data, version, position, created_at, updated_at FROM objects ORDER BY type, sid')
    .all() as ExpectedRow[];
  expect(actual, `${label} objects equal an independent fold of the log`).to.deep.equal(expected);

  const scratch = new BetterSqlite(':memory:');
  try {
    ensureProjectionTables(scratch, LIVE);
    await writeFold(scratch, store.schema, LIVE, await foldLog(store.eventLog));
    const liveIndex = indexRows(engine.db);
    expect(liveIndex, `${label} object_index equals a fresh rebuild`).to.deep.equal(indexRows(scratch));
    await engine.ensureFullText();
    const liveText = fullTextTuples(engine.db);
    expect(liveText, `${label} full-text index equals a fresh rebuild`).to.deep.equal(fullTextTuples(scratch));
    return { events: events.length, objects: expected.length, indexRows: liveIndex.length, textTuples: liveText.length };
  } finally {
    scratch.close();
  }
}
