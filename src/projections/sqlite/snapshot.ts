import Database from 'better-sqlite3';
import type { EventLog } from '../../log/event-log';
import type { StoreSchema } from '../config';
import { foldLog, type FoldLimit, type ProgressFn } from '../fold';
import type { FindQuery, ObjectRecord, Page } from '../projection-store';
import { ProjectionQueries } from './queries';
import { writeFold } from './rebuild';
import { CURRENT_STATE, FULL_TEXT, LIVE, ensureProjectionTables } from './tables';

/** Projections as of one moment, in their own database: answers queries, then is closed. */
export interface ProjectionSnapshot {
  queries: ProjectionQueries;
  /** Last log position folded in. */
  position: number;
  events: number;
  objects: number;
  close(): void;
}

/**
 * Fold the log up to a position or a moment and write the projections into `file` (default: in
 * memory). Point-in-time `_list`/`_find` and `osis rebuild --to/--at` use it: slower than the live
 * tables, but derived with the same code, so the answers are the same as the live ones were then.
 */
export async function buildSnapshot(log: EventLog, schema: StoreSchema, limit: FoldLimit, file = ':memory:', onProgress?: ProgressFn): Promise<ProjectionSnapshot> {
  const db = new Database(file);
  try {
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    ensureProjectionTables(db, LIVE);
    const folded = await foldLog(log, limit, onProgress);
    const objects = await writeFold(db, schema, LIVE, folded);
    db.prepare('INSERT OR REPLACE INTO projection_checkpoints (name, position) VALUES (?, ?), (?, ?)').run(
      CURRENT_STATE, folded.position, FULL_TEXT, folded.position,
    );
    return { queries: new ProjectionQueries(db, schema), position: folded.position, events: folded.events, objects, close: () => db.close() };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** One page as the live tables would have answered at `at`: folds the log into an in-memory snapshot, queries it, closes it. */
export async function findAtSnapshot(log: EventLog, schema: StoreSchema, at: FoldLimit, type: string, query: FindQuery, full: boolean): Promise<Page<string | ObjectRecord>> {
  const snapshot = await buildSnapshot(log, schema, at);
  try {
    return snapshot.queries.find(type, query, full);
  } finally {
    snapshot.close();
  }
}
