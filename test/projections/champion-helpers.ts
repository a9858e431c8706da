import type Database from 'better-sqlite3';
import type { Store } from '../../src';
import { ftsTable } from '../../src/projections/sqlite/tables';

export const SCHEMA = { types: { doc: { text: ['body'] } } };
export const WORDS = ['the', 'report', 'of', 'and', 'zebra', 'ocean', 'mint', 'cloud', 'stone', 'river', 'lamp', 'kite'];

/** Bodies of 2..30 words, Zipf-like, so the common words repeat within a body (tf > 1) and lengths vary. */
export function body(random: () => number): string {
  const n = 2 + Math.floor(random() * 29);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.min(WORDS.length - 1, Math.floor(Math.exp(random() * Math.log(WORDS.length + 1))) - 1)]);
  return words.join(' ');
}

/** FTS5's exact page: the sids of `ORDER BY rank, rowid LIMIT limit OFFSET offset`. */
export function exact(db: Database.Database, term: string, limit: number, offset = 0): string[] {
  const fts = ftsTable('doc');
  return db
    .prepare(`SELECT o.sid FROM ${fts} f JOIN objects o ON o.id = f.rowid WHERE ${fts} MATCH ? ORDER BY f.rank, f.rowid LIMIT ? OFFSET ?`)
    .pluck()
    .all(`"${term}"`, limit, offset) as string[];
}

export async function pages(store: Store, term: string, count: number): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < count; i++) {
    const page = await store.collection('doc')._find({ text: term, limit: 20, cursor });
    out.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return out;
}

