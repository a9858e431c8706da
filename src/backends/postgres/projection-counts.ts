import type { Facet, FacetValue } from '../../projections/projection-store';
import type { ProjectionTables, Queryable } from './projection-schema';
import { indexKey, keyValue } from './projection-values';

/**
 * Reads of the maintained counts (`object_counts`, `object_facets`, kept by the statement-level
 * triggers of projection-schema.ts). Each read is a primary-key lookup or a bounded range.
 */
export class PgCountQueries {
  constructor(private readonly db: Queryable, private readonly t: ProjectionTables) {}

  /** Live objects per type (types with none are left out). */
  async types(): Promise<Record<string, number>> {
    const result = await this.db.query(`SELECT type, n FROM ${this.t.counts} WHERE n > 0 ORDER BY type`);
    return Object.fromEntries(result.rows.map((r) => [r.type, Number(r.n)]));
  }

  /** Objects of `type` whose indexed `field` holds `value` (compared as the index holds it). */
  async value(type: string, field: string, value: string | number): Promise<number> {
    const key = indexKey(value);
    if (!key) return 0;
    const result = await this.db.query(
      `SELECT n FROM ${this.t.facets} WHERE type = $1 AND field = $2 AND (kind, num, txt) = ($3::smallint, $4::float8, $5::bytea)`,
      [type, field, ...key],
    );
    return result.rows.length === 0 ? 0 : Number(result.rows[0].n);
  }

  /**
   * The `top` most frequent values of an indexed field; when it has more than `cap` distinct values,
   * `values` is empty and `distinct` is cap + 1. Ties in value order (numbers first), as SQLite orders them.
   */
  async facet(type: string, field: string, top: number, cap: number): Promise<Facet> {
    const counted = await this.db.query(`SELECT count(*) AS n FROM (SELECT 1 FROM ${this.t.facets} WHERE type = $1 AND field = $2 LIMIT $3) s`, [type, field, cap + 1]);
    const distinct = Number(counted.rows[0].n);
    if (distinct > cap) return { field, values: [], distinct };
    const result = await this.db.query(
      `SELECT kind, num, txt, n FROM ${this.t.facets} WHERE type = $1 AND field = $2 ORDER BY n DESC, kind, num, txt LIMIT $3`,
      [type, field, top],
    );
    return { field, values: result.rows.map((r) => ({ value: keyValue(r.kind, r.num, r.txt), count: Number(r.n) })), distinct };
  }

  /** Facet counts of the indexed fields over the given objects. */
  async facetsOf(type: string, sids: readonly string[]): Promise<Map<string, FacetValue[]>> {
    const map = new Map<string, FacetValue[]>();
    if (sids.length === 0) return map;
    const result = await this.db.query(
      `SELECT field, kind, num, txt, count(*) AS n FROM ${this.t.index} WHERE type = $1 AND sid = ANY($2::text[]) GROUP BY field, kind, num, txt`,
      [type, [...sids]],
    );
    for (const row of result.rows) {
      let values = map.get(row.field);
      if (!values) map.set(row.field, (values = []));
      values.push({ value: keyValue(row.kind, row.num, row.txt), count: Number(row.n) });
    }
    for (const values of map.values()) values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return map;
  }

  /** Types whose maintained count differs from a count of the objects (for parity checks). */
  async typeMismatches(): Promise<Array<{ type: string; kept: number; actual: number }>> {
    const result = await this.db.query(
      `SELECT coalesce(a.type, k.type) AS type, coalesce(k.n, 0) AS kept, coalesce(a.n, 0) AS actual
       FROM (SELECT type, count(*) AS n FROM ${this.t.objects} GROUP BY type) a
       FULL JOIN (SELECT type, n FROM ${this.t.counts} WHERE n <> 0) k ON k.type = a.type
       WHERE coalesce(k.n, 0) <> coalesce(a.n, 0) ORDER BY 1`,
    );
    return result.rows.map((r) => ({ type: r.type, kept: Number(r.kept), actual: Number(r.actual) }));
  }

  /** (type, field, value) whose maintained facet count differs from a count of the field index. */
  async facetMismatches(limit = 10): Promise<Array<{ type: string; field: string; value: string | number }>> {
    const result = await this.db.query(
      `WITH actual AS (SELECT type, field, kind, num, txt, count(*) AS n FROM ${this.t.index} GROUP BY type, field, kind, num, txt),
       kept AS (SELECT type, field, kind, num, txt, n FROM ${this.t.facets})
       SELECT * FROM ((SELECT * FROM actual EXCEPT SELECT * FROM kept) UNION ALL (SELECT * FROM kept EXCEPT SELECT * FROM actual)) d LIMIT $1`,
      [limit],
    );
    return result.rows.map((r) => ({ type: r.type, field: r.field, value: keyValue(r.kind, r.num, r.txt) }));
  }
}
