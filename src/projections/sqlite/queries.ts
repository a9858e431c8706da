import type Database from 'better-sqlite3';
import { InvalidInputError } from '../../log/errors';
import { indexedFields, type StoreSchema } from '../config';
import { terms } from './bm25';
import { ChampionLists } from './champions';
import { toFtsExpression } from './fts-query';
import { LIVE, ftsTable, indexValue, type ObjectRow } from './tables';
import type { FilterOp, FilterClause, ObjectRecord, Page, FindQuery } from '../projection-store';
export type { FilterOp, FilterClause, ObjectRecord, Page, FindQuery } from '../projection-store';

const SQL_OP: Record<Exclude<FilterOp, 'in' | 'ne'>, string> = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const RECORD_COLUMNS = 'o.sid, o.data, o.version, o.position, o.created_at, o.updated_at';

/** The columns of `objects` a record read selects (RECORD_COLUMNS). */
type RecordRow = Omit<ObjectRow, 'id' | 'type'>;

/** Read-side queries over the current-state and full-text projections. Values are always bound. */
export class ProjectionQueries {
  private readonly cache = new Map<string, Database.Statement>();
  private readonly getOne;
  private readonly getData;
  private readonly ftsExists;
  private readonly valueCount;
  private readonly typeCount;
  private readonly sliceFromStart;
  private readonly sliceAfter;
  private readonly champions;

  constructor(private readonly db: Database.Database, private readonly schema: StoreSchema) {
    this.valueCount = db.prepare('SELECT n FROM object_facets WHERE type = ? AND field = ? AND value = ?').pluck();
    this.typeCount = db.prepare('SELECT n FROM object_counts WHERE type = ?').pluck();
    this.getOne = db.prepare(`SELECT ${RECORD_COLUMNS} FROM objects o WHERE o.type = ? AND o.sid = ?`);
    this.getData = db.prepare('SELECT data FROM objects WHERE type = ? AND sid = ?').pluck();
    this.ftsExists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck();
    this.sliceFromStart = db.prepare('SELECT sid FROM objects WHERE type = ? ORDER BY sid LIMIT 1 OFFSET ?').pluck();
    this.sliceAfter = db.prepare('SELECT sid FROM objects WHERE type = ? AND sid > ? ORDER BY sid LIMIT 1 OFFSET ?').pluck();
    this.champions = new ChampionLists(db, LIVE);
  }

  /** Just the object (the common read: no bookkeeping columns, no dates to format). */
  object(type: string, sid: string): Record<string, unknown> | undefined {
    const data = this.getData.get(type, sid) as string | undefined;
    return data === undefined ? undefined : JSON.parse(data);
  }

  exists(type: string, sid: string): boolean {
    return this.getData.get(type, sid) !== undefined;
  }

  get(type: string, sid: string): ObjectRecord | undefined {
    const row = this.getOne.get(type, sid) as RecordRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(type: string, limit: number, afterSid: string | undefined, full: boolean): Page<string | ObjectRecord> {
    return this.find(type, { filter: [], limit, afterSid }, full);
  }

  find(type: string, query: FindQuery, full: boolean): Page<string | ObjectRecord> {
    const columns = full ? RECORD_COLUMNS : 'o.sid';
    if (query.text !== undefined) {
      const where: string[] = ['o.type = ?'];
      const params: unknown[] = [type];
      for (const clause of query.filter) this.addClause(type, clause, where, params, undefined);
      const table = ftsTable(type);
      if (!this.ftsExists.get(table)) return { items: [] };
      const expression = toFtsExpression(query.text);
      const offset = query.offset ?? 0;
      const champions = query.filter.length === 0 && !query.unranked ? this.fromChampions(type, query.text, offset, query.limit, columns) : undefined;
      const sql = (query.unranked ? matchesSql : rankedSql)(table, columns, query.filter.length === 0 ? undefined : where.join(' AND '));
      const rows = champions ?? this.run(sql, query.filter.length === 0 ? [expression, query.limit + 1, offset, type] : [expression, ...params, query.limit + 1, offset]);
      const more = rows.length > query.limit;
      const items = rows.slice(0, query.limit).map((r) => (full ? toRecord(r as RecordRow) : (r as { sid: string }).sid));
      return more ? { items, nextOffset: offset + query.limit } : { items };
    }
    const rows = this.range(type, query.filter, query.afterSid, undefined, query.limit + 1, full);
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit);
    return more ? { items, nextAfterSid: sidOf(items[items.length - 1]) } : { items };
  }

  /**
   * Up to `limit` matches of `filter` in sid order, after `afterSid` and up to `uptoSid` (inclusive)
   * when given: sids, or records when `full`.
   */
  range(type: string, filter: readonly FilterClause[], afterSid: string | undefined, uptoSid: string | undefined, limit: number, full: boolean): Array<string | ObjectRecord> {
    const where: string[] = ['o.type = ?'];
    const params: unknown[] = [type];
    for (const clause of filter) this.addClause(type, clause, where, params, limit);
    if (afterSid !== undefined) {
      where.push('o.sid > ?');
      params.push(afterSid);
    }
    if (uptoSid !== undefined) {
      where.push('o.sid <= ?');
      params.push(uptoSid);
    }
    const sql = `SELECT ${full ? RECORD_COLUMNS : 'o.sid'} FROM objects o WHERE ${where.join(' AND ')} ORDER BY o.sid LIMIT ?`;
    return this.run(sql, [...params, limit]).map((r) => (full ? toRecord(r as RecordRow) : (r as { sid: string }).sid));
  }

  /** Whether a filter must look at every object of the type (a field without an index, or `ne`). */
  isScan(type: string, filter: readonly FilterClause[]): boolean {
    const indexed = indexedFields(this.schema, type);
    return filter.some((c) => c.op === 'ne' || !indexed.includes(c.field));
  }

  /** The sid `count` objects after `afterSid` in sid order (the end of a slice of a scan), or undefined when fewer remain. */
  sliceEnd(type: string, afterSid: string | undefined, count: number): string | undefined {
    return (afterSid === undefined ? this.sliceFromStart : this.sliceAfter).get(...(afterSid === undefined ? [type, count - 1] : [type, afterSid, count - 1])) as
      | string
      | undefined;
  }

  /** Whether the current-state table holds any object. */
  hasObjects(): boolean {
    return this.db.prepare('SELECT 1 FROM objects LIMIT 1').get() !== undefined;
  }

  /** Count live objects per type. */
  counts(): Record<string, number> {
    const rows = this.db.prepare('SELECT type, count(*) AS n FROM objects GROUP BY type ORDER BY type').all() as { type: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }

  /**
   * Whether an indexed equality clause is best tested per row (an index probe per candidate) rather than
   * as the list of every matching sid. The maintained counts tell how many objects hold the values: a
   * list costs one step per match; probing while walking the type in sid order costs about
   * `walk × objects / matches` steps; below a ranked text match there are no more candidates than text matches.
   */
  private probes(type: string, field: string, values: Array<string | number>, walk: number | undefined): boolean {
    let matches = 0;
    for (const value of values) matches += (this.valueCount.get(type, field, value) as number | undefined) ?? 0;
    if (walk === undefined) return matches > 5000;
    const objects = (this.typeCount.get(type) as number | undefined) ?? 0;
    return matches > 0 && matches * matches > walk * objects;
  }

  /**
   * A one-term ranked page from the champion lists (FTS5's exact `ORDER BY rank, rowid` page, at a cost
   * that grows with the page, not the matches), or undefined when the lists cannot answer it.
   */
  private fromChampions(type: string, text: string, offset: number, limit: number, columns: string): unknown[] | undefined {
    const trimmed = text.trim();
    const found = terms(trimmed);
    if (found.length !== 1 || !/^[\p{L}\p{N}]+$/u.test(trimmed)) return undefined;
    const ids = this.champions.top(type, found[0], offset + limit + 1);
    if (ids === undefined) return undefined;
    const rows: unknown[] = [];
    for (const id of ids.slice(offset)) {
      const row = this.run(`SELECT ${columns} FROM objects o WHERE o.id = ? AND o.type = ?`, [id, type])[0];
      if (row === undefined) return undefined;
      rows.push(row);
    }
    return rows;
  }

  private addClause(type: string, clause: FilterClause, where: string[], params: unknown[], walk: number | undefined): void {
    const values = clause.op === 'in' ? (clause.value as unknown[]) : [clause.value];
    const bound = values.map((v) => {
      const value = indexValue(v);
      if (value === undefined) throw new InvalidInputError(`filter on ${clause.field}: only strings, numbers and booleans can be compared`);
      return value;
    });
    const test = clause.op === 'in' ? `IN (${bound.map(() => '?').join(', ')})` : clause.op === 'ne' ? '= ?' : `${SQL_OP[clause.op]} ?`;
    const negate = clause.op === 'ne' ? 'NOT ' : '';
    if (indexedFields(this.schema, type).includes(clause.field)) {
      if ((clause.op === 'eq' || clause.op === 'in') && this.probes(type, clause.field, bound, walk)) {
        where.push(`EXISTS (SELECT 1 FROM object_index i WHERE i.type = ? AND i.field = ? AND i.value ${test} AND i.sid = o.sid)`);
        params.push(type, clause.field, ...bound);
        return;
      }
      where.push(`o.sid ${negate}IN (SELECT i.sid FROM object_index i WHERE i.type = ? AND i.field = ? AND i.value ${test})`);
      params.push(type, clause.field, ...bound);
    } else {
      where.push(clause.op === 'ne' ? `json_extract(o.data, ?) IS NOT ?` : `json_extract(o.data, ?) ${test}`);
      params.push(`$."${clause.field}"`, ...bound);
    }
  }

  private run(sql: string, params: unknown[]): unknown[] {
    let statement = this.cache.get(sql);
    if (!statement) {
      if (this.cache.size > 200) this.cache.clear();
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    try {
      return statement.all(...params);
    } catch (error) {
      const message = (error as Error).message ?? '';
      if (/fts5|MATCH/i.test(message)) throw new InvalidInputError(`invalid text query: ${message}`);
      throw error;
    }
  }
}

/**
 * A ranked full-text page: BM25 rank, ties broken by `objects.id` (creation order of the object's current
 * life, which inline application and rebuilds assign alike). FTS5 is always the outer loop, so a query
 * costs O(matches) and, without filters, only the page's rows are joined to `objects`.
 * Parameters: expression, then (filtered) the `where` parameters, then limit, offset, and (unfiltered) type.
 */
export function rankedSql(table: string, columns: string, where: string | undefined): string {
  if (where === undefined) {
    return (
      `SELECT ${columns} FROM (SELECT rowid AS id, rank AS score FROM ${table} WHERE ${table} MATCH ? ` +
      `ORDER BY rank, rowid LIMIT ? OFFSET ?) f CROSS JOIN objects o ON o.id = f.id WHERE o.type = ? ORDER BY f.score, f.id`
    );
  }
  return (
    `SELECT ${columns} FROM ${table} f CROSS JOIN objects o ON o.id = f.rowid ` +
    `WHERE ${table} MATCH ? AND ${where} ORDER BY f.rank, f.rowid LIMIT ? OFFSET ?`
  );
}

/**
 * Full-text matches in rowid order (FTS5's own order without `rank`: the creation order of the objects'
 * current lives), so a page costs what it returns. Same parameters as `rankedSql`.
 */
export function matchesSql(table: string, columns: string, where: string | undefined): string {
  if (where === undefined) {
    return (
      `SELECT ${columns} FROM (SELECT rowid AS id FROM ${table} WHERE ${table} MATCH ? ORDER BY rowid LIMIT ? OFFSET ?) f ` +
      `CROSS JOIN objects o ON o.id = f.id WHERE o.type = ? ORDER BY f.id`
    );
  }
  return `SELECT ${columns} FROM ${table} f CROSS JOIN objects o ON o.id = f.rowid WHERE ${table} MATCH ? AND ${where} ORDER BY f.rowid LIMIT ? OFFSET ?`;
}

function sidOf(item: string | ObjectRecord): string {
  return typeof item === 'string' ? item : (item.object.sid as string);
}

function toRecord(row: RecordRow): ObjectRecord {
  return {
    object: JSON.parse(row.data),
    version: row.version,
    position: row.position,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
