import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SqliteProjectionStore } from '../../src/projections/sqlite/sqlite-projection-store';
import { rankedSql } from '../../src/projections/sqlite/queries';
import { ftsTable } from '../../src/projections/sqlite/tables';

describe('ranked full-text query plan', () => {
  const plan = (db: Database.Database, sql: string, params: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);

  async function engine(): Promise<{ db: Database.Database; engine: SqliteProjectionStore }> {
    const db = new Database(':memory:');
    const e = new SqliteProjectionStore(db, { types: { doc: { index: ['tag'], unique: [], text: ['body'] } } });
    const ts = new Date().toISOString();
    db.transaction(() =>
      e.currentState.apply(
        Array.from({ length: 50 }, (_, i) => ({
          position: i + 1, id: `e${i}`, type: 'doc', sid: `s${i}`, kind: 'created' as const, version: 1, ts,
          data: { sid: `s${i}`, body: i % 2 ? 'odd words' : 'even words', tag: i % 3 },
        })),
      ),
    )();
    await e.ensureFullText();
    return { db, engine: e };
  }

  // Regression: the planner used to walk every object of the type and probe FTS5 per row
  // (1 s per rare-term query at 100K objects, minutes for a common term).
  it('drives the query from the FTS5 index, never from a scan of the objects', async () => {
    const { db, engine: e } = await engine();
    const unfiltered = plan(db, rankedSql(ftsTable('doc'), 'o.sid', undefined), ['"odd"', 21, 0, 'doc']);
    expect(unfiltered.join(' | ')).to.match(/SCAN fts_3_doc VIRTUAL TABLE/);
    expect(unfiltered.join(' | ')).to.match(/SEARCH o USING INTEGER PRIMARY KEY/);
    const filtered = plan(db, rankedSql(ftsTable('doc'), 'o.sid', 'o.type = ? AND o.sid IN (SELECT i.sid FROM object_index i WHERE i.type = ? AND i.field = ? AND i.value = ?)'), ['"odd"', 'doc', 'doc', 'tag', 1, 21, 0]);
    expect(filtered[0]).to.match(/SCAN f VIRTUAL TABLE/);
    expect(filtered.join(' | ')).to.match(/SEARCH o USING INTEGER PRIMARY KEY/);
    expect(e.queries.find('doc', { filter: [], text: 'odd', limit: 100 }, false).items).to.have.length(25);
    expect(e.queries.find('doc', { filter: [{ field: 'tag', op: 'eq', value: 1 }], text: 'odd', limit: 100 }, false).items).to.have.length(9);
    db.close();
  });
});
