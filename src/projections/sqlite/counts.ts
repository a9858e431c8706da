import type Database from 'better-sqlite3';
import type { TableNames } from './table-names';
import type { Facet, FacetValue } from '../projection-store';
export type { Facet, FacetValue } from '../projection-store';

/**
 * Maintained counts: live objects per type, and `object_index` rows per (type, field, value), the facet
 * counts. SQLite triggers on the projection tables keep them in the same transaction as every write, by
 * any process and by rebuilds (the shadow generation has its own, renamed with it), so reading a count
 * costs one index lookup instead of a scan of the store.
 */
export function ensureCountTables(db: Database.Database, names: TableNames, tag: string): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck();
  const { objects, index, counts, facets } = names;
  const dropTriggers = (table: string, prefix: string) => {
    const stale = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ?").pluck().all(table, `${prefix}%`);
    for (const name of stale as string[]) db.exec(`DROP TRIGGER ${name}`);
  };
  if (!exists.get(counts)) {
    dropTriggers(objects, 'count_');
    db.exec(`CREATE TABLE ${counts} (type TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO ${counts} (type, n) SELECT type, count(*) FROM ${objects} GROUP BY type;
    CREATE TRIGGER count_add_${tag} AFTER INSERT ON ${objects} BEGIN
      INSERT INTO ${counts} (type, n) VALUES (NEW.type, 1) ON CONFLICT (type) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER count_remove_${tag} AFTER DELETE ON ${objects} BEGIN
      UPDATE ${counts} SET n = n - 1 WHERE type = OLD.type;
      DELETE FROM ${counts} WHERE type = OLD.type AND n <= 0;
    END;`);
  }
  if (!exists.get(facets)) {
    dropTriggers(index, 'facet_');
    db.exec(`CREATE TABLE ${facets} (
      type  TEXT NOT NULL,
      field TEXT NOT NULL,
      value ANY,
      n     INTEGER NOT NULL,
      PRIMARY KEY (type, field, value)
    ) WITHOUT ROWID;
    INSERT INTO ${facets} (type, field, value, n) SELECT type, field, value, count(*) FROM ${index} GROUP BY type, field, value;
    CREATE TRIGGER facet_add_${tag} AFTER INSERT ON ${index} BEGIN
      INSERT INTO ${facets} (type, field, value, n) VALUES (NEW.type, NEW.field, NEW.value, 1)
        ON CONFLICT (type, field, value) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER facet_remove_${tag} AFTER DELETE ON ${index} BEGIN
      UPDATE ${facets} SET n = n - 1 WHERE type = OLD.type AND field = OLD.field AND value = OLD.value;
      DELETE FROM ${facets} WHERE type = OLD.type AND field = OLD.field AND value = OLD.value AND n <= 0;
    END;`);
  }
}

/** Reads of the maintained counts (live tables). Every read is an index lookup or a bounded range. */
export class CountQueries {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      all: db.prepare('SELECT type, n FROM object_counts WHERE n > 0 ORDER BY type').raw(),
      one: db.prepare('SELECT n FROM object_counts WHERE type = ?').pluck(),
      distinct: db.prepare('SELECT count(*) FROM (SELECT 1 FROM object_facets WHERE type = ? AND field = ? LIMIT ?)').pluck(),
      top: db.prepare('SELECT value, n AS count FROM object_facets WHERE type = ? AND field = ? ORDER BY n DESC, value LIMIT ?'),
      valueCount: db.prepare('SELECT n FROM object_facets WHERE type = ? AND field = ? AND value = ?').pluck(),
      ofSids: db.prepare(
        `SELECT i.field, i.value, count(*) AS count FROM json_each(?) j CROSS JOIN object_index i
         WHERE i.type = ? AND i.sid = j.value GROUP BY i.field, i.value`,
      ),
    };
  }

  /** Live objects per type (types with none are left out). */
  types(): Record<string, number> {
    return Object.fromEntries(this.s.all.all() as [string, number][]);
  }

  /** Live objects of one type. */
  type(type: string): number {
    return (this.s.one.get(type) as number | undefined) ?? 0;
  }

  /** Objects of `type` whose indexed `field` holds `value`. */
  value(type: string, field: string, value: string | number): number {
    return (this.s.valueCount.get(type, field, value) as number | undefined) ?? 0;
  }

  /**
   * The `top` most frequent values of an indexed field over the whole type. When the field has more
   * than `cap` distinct values, `values` is empty (a facet would say nothing) and `distinct` is cap + 1.
   */
  facet(type: string, field: string, top: number, cap: number): Facet {
    const distinct = this.s.distinct.get(type, field, cap + 1) as number;
    if (distinct > cap) return { field, values: [], distinct };
    return { field, values: this.s.top.all(type, field, top) as FacetValue[], distinct };
  }

  /** (type, field, value) rows where the maintained facet counts differ from a count of `object_index` (for verify). */
  facetMismatches(limit = 10): Array<{ type: string; field: string; value: unknown }> {
    return this.db
      .prepare(
        `WITH actual AS (SELECT type, field, value, count(*) AS n FROM object_index GROUP BY type, field, value),
         kept AS (SELECT type, field, value, n FROM object_facets)
         SELECT type, field, value FROM (SELECT * FROM actual EXCEPT SELECT * FROM kept)
         UNION ALL SELECT type, field, value FROM (SELECT * FROM kept EXCEPT SELECT * FROM actual) LIMIT ?`,
      )
      .all(limit) as Array<{ type: string; field: string; value: unknown }>;
  }

  /** Facet counts of the indexed fields over a given set of objects (a bounded sample of matches). */
  facetsOf(type: string, sids: readonly string[]): Map<string, FacetValue[]> {
    const result = new Map<string, FacetValue[]>();
    if (sids.length === 0) return result;
    for (const row of this.s.ofSids.all(JSON.stringify(sids), type) as Array<FacetValue & { field: string }>) {
      let values = result.get(row.field);
      if (!values) result.set(row.field, (values = []));
      values.push({ value: row.value, count: row.count });
    }
    for (const values of result.values()) values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return result;
  }
}
