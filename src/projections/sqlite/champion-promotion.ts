import type Database from 'better-sqlite3';
import { fullTextBody, type StoreSchema } from '../config';
import { termFrequencies } from './bm25';
import { TRACKED_DF, type ChampionLists } from './champions';
import { ftsTable, type TableNames } from './tables';
import { writeTransaction } from './transactions';

/** Objects a promotion scan reads per slice; it yields to the event loop between slices. */
const SCAN_SLICE = 5000;

/** A type is checked again once it has grown by this factor since its last check. */
const GROWTH = 1.25;

/**
 * Whether a type is due for a promotion check: it holds at least TRACKED_DF objects and has grown by a
 * quarter since the last check. So checks (each a scan of the FTS5 vocabulary) happen O(log n) times over
 * a store's life, and a term that is not promoted yet matches at most about GROWTH × TRACKED_DF objects
 * (FTS5 ranks that many in a few milliseconds).
 */
export function promotionDue(champions: ChampionLists, type: string, objects: number): boolean {
  return objects >= TRACKED_DF && objects >= GROWTH * champions.checkedAt(type);
}

/**
 * Give champion lists to the terms of `type` that are now in at least TRACKED_DF objects, in a store that
 * is not rebuilt (a rebuild builds them while it indexes). Safe beside concurrent writes:
 * 1. one transaction marks the terms as being promoted: from then on `add` records every new posting of
 *    them, and queries of them go to FTS5;
 * 2. the type's objects are scanned in slices, collecting the terms' postings (what a rebuild collects);
 * 3. one transaction writes the frontiers and the postings of objects that still read as scanned
 *    (an object changed in between already has its posting from `add`), and lets queries use the lists.
 * Returns the terms promoted. Gives up (and leaves a retry to the next check) when a rebuild swapped the
 * tables meanwhile, or when `keepGoing` says stop (the store is closing).
 */
export async function promoteFrequentTerms(
  db: Database.Database,
  schema: StoreSchema,
  names: TableNames,
  champions: ChampionLists,
  type: string,
  objects: number,
  keepGoing: () => boolean = () => true,
  scanSlice = SCAN_SLICE,
): Promise<string[]> {
  const table = ftsTable(type, names);
  const schemaVersion = db.prepare('PRAGMA schema_version').pluck();
  const started = await writeTransaction(db, () => {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) return undefined;
    const { tracked } = champions.trackedTerms(type);
    const terms = frequentTerms(db, table).filter((term) => !tracked.has(term));
    if (terms.length > 0) champions.startPromotion(type, terms);
    else champions.markChecked(type, objects);
    return { terms, version: schemaVersion.get() as number };
  });
  if (!started || started.terms.length === 0) return [];
  const builder = champions.builder(new Set(started.terms));
  const slice = db.prepare(`SELECT id, data FROM ${names.objects} WHERE type = ? AND id > ? ORDER BY id LIMIT ?`);
  for (let after = 0; ; ) {
    const rows = slice.all(type, after, scanSlice) as { id: number; data: string }[];
    for (const row of rows) {
      const body = fullTextBody(schema, type, JSON.parse(row.data));
      if (body !== '') builder.add(type, row.id, body);
    }
    if (rows.length < scanSlice) break;
    after = rows[rows.length - 1].id;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!keepGoing()) return [];
  }
  if (!keepGoing()) return [];
  const read = db.prepare(`SELECT data FROM ${names.objects} WHERE id = ? AND type = ?`).pluck();
  return writeTransaction(db, () => {
    if (schemaVersion.get() !== started.version) return [];
    const seen = new Map<number, Map<string, number> & { length?: number }>();
    const current = (id: number, term: string) => {
      let tf = seen.get(id);
      if (!tf) {
        const data = read.get(id, type) as string | undefined;
        const counted = data === undefined ? { tf: new Map<string, number>(), length: -1 } : termFrequencies(fullTextBody(schema, type, JSON.parse(data)));
        tf = Object.assign(counted.tf, { length: counted.length });
        seen.set(id, tf);
      }
      const n = tf.get(term);
      return n === undefined ? undefined : { tf: n, length: tf.length! };
    };
    champions.finishPromotion(type, builder.termLists(type), current);
    champions.markChecked(type, objects);
    return started.terms;
  });
}

/** The terms of an FTS5 table in at least TRACKED_DF documents (one pass over its vocabulary). */
function frequentTerms(db: Database.Database, table: string): string[] {
  const vocab = `temp.${table}_vocab`;
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS ${vocab} USING fts5vocab(main, ${table}, 'row')`);
  return db.prepare(`SELECT term FROM ${vocab} WHERE doc >= ?`).pluck().all(TRACKED_DF) as string[];
}
