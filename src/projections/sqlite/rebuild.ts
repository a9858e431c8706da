import type Database from 'better-sqlite3';
import { CorruptError } from '../../log/errors';
import type { EventLog } from '../../log/event-log';
import type { StoreSchema } from '../config';
import { CurrentStateProjection } from './current-state';
import { fillJson, foldLog, foldParity, type FoldedLog, type ProgressFn } from '../fold';
import { FullTextProjection } from './fulltext';
import { CURRENT_STATE, FULL_TEXT, LIVE, SHADOW, championTables, dropProjectionTables, ensureProjectionTables, ftsTable, ftsTables, typeOfTable, typeTable, type TableNames } from './tables';
import { withRebuildLease, type RebuildLease } from './rebuild-lease';
import { beginImmediate, writeTransaction } from './transactions';
import type { RebuildResult } from '../projection-store';
export type { RebuildResult } from '../projection-store';

const WRITE_BATCH = 10_000;

/** Projection writers over one generation of tables. */
function writers(db: Database.Database, schema: StoreSchema, names: TableNames) {
  const fulltext = new FullTextProjection(db, schema, names);
  return { fulltext, currentState: new CurrentStateProjection(db, schema, fulltext, names) };
}

/**
 * Write a fold into a generation of tables, each object once with its full-text entry, in write
 * transactions of WRITE_BATCH objects so concurrent appends are never held off for long.
 */
export async function writeFold(db: Database.Database, schema: StoreSchema, names: TableNames, folded: FoldedLog, lease?: RebuildLease): Promise<number> {
  const { currentState, fulltext } = writers(db, schema, names);
  const live = [...folded.objects.values()].filter((o) => o.data !== null);
  fulltext.startBulk(live.length);
  try {
    for (let i = 0; i < live.length; i += WRITE_BATCH) {
      await lease?.beat();
      await writeTransaction(db, () => {
        for (const object of live.slice(i, i + WRITE_BATCH)) {
          const id = currentState.writeFolded(object)!;
          fulltext.index(object.type, id, object.data!, true);
        }
      });
    }
    const lists = await fulltext.finishBulk();
    await writeTransaction(db, () => fulltext.writeBulk(lists));
  } finally {
    fulltext.abandonBulk();
  }
  return live.length;
}

/**
 * Build SHADOW tables from the log up to its head, compare their parity hash with an independent fold,
 * then, holding the write lock, apply what was appended meanwhile and rename SHADOW over LIVE. One
 * rebuild at a time per database, across processes (see `withRebuildLease`): another process's rebuild
 * is waited for, and when `stillNeeded` (asked once the lease is held) says no, nothing is done and the
 * result is undefined.
 */
export async function blueGreenRebuild(
  db: Database.Database,
  schema: StoreSchema,
  log: EventLog,
  onProgress?: ProgressFn,
  stillNeeded: () => boolean | Promise<boolean> = () => true,
): Promise<RebuildResult | undefined> {
  return withRebuildLease(db, stillNeeded, (lease) => rebuildUnderLease(db, schema, log, lease, onProgress));
}

async function rebuildUnderLease(db: Database.Database, schema: StoreSchema, log: EventLog, lease: RebuildLease, onProgress?: ProgressFn): Promise<RebuildResult> {
  await writeTransaction(db, () => {
    dropProjectionTables(db, SHADOW);
    ensureProjectionTables(db, SHADOW);
  });
  try {
    await lease.beat();
    const folded = await foldLog(log, {}, onProgress);
    fillJson(folded);
    // The fold is deterministic over an immutable log prefix, so its own parity is what a second fold
    // up to the same position would give; the tables, written separately, are checked against it.
    const expected = foldParity(folded);
    const objects = await writeFold(db, schema, SHADOW, folded, lease);
    const shadow = writers(db, schema, SHADOW);
    const parity = shadow.currentState.parity();
    if (parity !== expected) {
      throw new CorruptError(`rebuild parity mismatch at position ${folded.position}: tables ${parity}, log ${expected}`);
    }
    await beginImmediate(db);
    try {
      let position = folded.position;
      for (;;) {
        const events = await log.readAll(position + 1, { limit: WRITE_BATCH });
        if (events.length === 0) break;
        shadow.currentState.apply(events);
        position = events[events.length - 1].position;
        for (const event of events) {
          if (event.kind !== 'deleted') {
            const id = db.prepare(`SELECT id FROM ${SHADOW.objects} WHERE type = ? AND sid = ?`).pluck().get(event.type, event.sid) as number | undefined;
            if (id !== undefined) shadow.fulltext.index(event.type, id, event.data);
          }
        }
      }
      swapIn(db);
      lease.releaseInTransaction();
      db.prepare(
        'INSERT INTO projection_checkpoints (name, position) VALUES (?, ?), (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
      ).run(CURRENT_STATE, position, FULL_TEXT, position);
      db.prepare('COMMIT').run();
      return { events: folded.events, objects, position, parity };
    } catch (error) {
      if (db.inTransaction) db.prepare('ROLLBACK').run();
      throw error;
    }
  } catch (error) {
    await writeTransaction(db, () => dropProjectionTables(db, SHADOW)).catch(() => undefined);
    throw error;
  }
}

/** Inside the caller's transaction: drop LIVE and rename SHADOW to LIVE. */
function swapIn(db: Database.Database): void {
  dropProjectionTables(db, LIVE);
  db.exec(`ALTER TABLE ${SHADOW.objects} RENAME TO ${LIVE.objects}; ALTER TABLE ${SHADOW.index} RENAME TO ${LIVE.index};`);
  // Renaming the count tables also renames them inside the triggers that now sit on the live tables.
  db.exec(`ALTER TABLE ${SHADOW.counts} RENAME TO ${LIVE.counts}; ALTER TABLE ${SHADOW.facets} RENAME TO ${LIVE.facets};`);
  for (const table of ftsTables(db, SHADOW)) {
    db.exec(`ALTER TABLE ${table} RENAME TO ${ftsTable(typeOfTable(SHADOW.ftsPrefix, table)!, LIVE)}`);
  }
  for (const table of championTables(db, SHADOW)) {
    db.exec(`ALTER TABLE ${table} RENAME TO ${typeTable(LIVE.championPrefix, typeOfTable(SHADOW.championPrefix, table)!)}`);
  }
}
