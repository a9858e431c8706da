import { InvalidInputError } from '../../log/errors';
import type { ObjectData } from '../../log/event';
import { indexedFields, type StoreSchema } from '../../projections/config';
import type { FilterClause, FindQuery, ObjectRecord } from '../../projections/projection-store';
import type { ProjectionTables, Queryable } from './projection-schema';
import { indexKey, scanKey, textQuery, type IndexKey } from './projection-values';
import { championPage, readyTerms, singleLexeme } from './champion-lists';

/** How long a process trusts its copy of a type's tracked terms before reading them again. */
const TRACKED_TTL_MS = 5_000;

/**
 * The terms of each type that have ready champion lists, read at most every TRACKED_TTL_MS (promotions
 * by other hosts show up within that). Only a hint: a term thought tracked that is not falls back to
 * GIN after one small statement; a term not yet known as tracked is ranked by GIN, exactly.
 */
export class TrackedTerms {
  private readonly types = new Map<string, { at: number; terms: Set<string> }>();

  constructor(private readonly db: Queryable, private readonly t: ProjectionTables) {}

  async has(type: string, term: string): Promise<boolean> {
    let entry = this.types.get(type);
    if (!entry || Date.now() - entry.at > TRACKED_TTL_MS) {
      entry = { at: Date.now(), terms: new Set(await readyTerms(this.db, this.t, type)) };
      this.types.set(type, entry);
    }
    return entry.terms.has(term);
  }

  /** Forget what was read (after this process promoted terms or rebuilt). */
  forget(): void {
    this.types.clear();
  }
}

const RECORD_COLUMNS = 'o.sid, o.data, o.version, o.position, o.created_at, o.updated_at';
const ROW_OP = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** Positional parameters of one statement: `add` binds a value and returns its placeholder. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * A field read from the object's stored JSON as SQLite's `json_extract` gives it, as an index key row
 * `(kind, num, txt)`: numbers (and booleans as 1/0) kind 0, strings and the JSON text of objects and
 * arrays kind 1 (as UTF-8 bytes), absent or null a NULL kind (matches no comparison, and `ne` by
 * `IS DISTINCT FROM`). PostgreSQL's json functions refuse a document holding `\u0000` (text cannot
 * hold U+0000), so such a document is read with U+10FFFF standing in for U+0000, and the bytes of U+0000
 * are put back in the key (the one text this misreads is a literal backslash followed by `u0000`).
 */
function jsonFieldKey(field: string): string {
  const hasNul = `strpos(o.data, '\\u0000') > 0`;
  const j = `((CASE WHEN ${hasNul} THEN replace(o.data, '\\u0000', '\\udbff\\udfff') ELSE o.data END)::json -> ${field})`;
  const utf8 = (text: string) => `CASE WHEN ${hasNul} THEN decode(replace(encode(convert_to(${text}, 'UTF8'), 'hex'), 'f48fbfbf', '00'), 'hex') ELSE convert_to(${text}, 'UTF8') END`;
  const jsonText = `replace(${j}::text, '\\udbff\\udfff', '\\u0000')`;
  return (
    `(CASE json_typeof(${j}) WHEN 'number' THEN 0 WHEN 'boolean' THEN 0 WHEN 'string' THEN 1 WHEN 'object' THEN 1 WHEN 'array' THEN 1 END, ` +
    `CASE json_typeof(${j}) WHEN 'number' THEN (${j}::text)::float8 WHEN 'boolean' THEN (${j}::text = 'true')::int ELSE 0 END, ` +
    `CASE json_typeof(${j}) WHEN 'string' THEN ${utf8(`${j} #>> '{}'`)} WHEN 'object' THEN convert_to(${jsonText}, 'UTF8') ` +
    `WHEN 'array' THEN convert_to(${jsonText}, 'UTF8') ELSE '\\x'::bytea END)`
  );
}

interface RecordRow {
  sid: string;
  data: string;
  version: number;
  position: string | number;
  created_at: string | number;
  updated_at: string | number;
}

/** A stored row as the contract's record (dates as ISO strings, as the SQLite store gives them). */
export function toRecord(row: RecordRow): ObjectRecord {
  return {
    object: JSON.parse(row.data),
    version: Number(row.version),
    position: Number(row.position),
    created_at: new Date(Number(row.created_at)).toISOString(),
    updated_at: new Date(Number(row.updated_at)).toISOString(),
  };
}

/**
 * Read-side queries over the live PostgreSQL projection tables: point reads, filtered pages in sid
 * order, ranked full-text pages. Every value is bound; only quoted table names are interpolated.
 */
export class PgProjectionQueries {
  /** How many ranked pages each path answered (champion lists, or GIN scoring every match): for tests and benchmarks. */
  readonly paths = { champions: 0, gin: 0 };
  /** Which terms have ready champion lists, as last read (a stale answer costs speed, never exactness). */
  readonly tracked: TrackedTerms;

  constructor(private readonly db: Queryable, private readonly t: ProjectionTables, private readonly schema: StoreSchema) {
    this.tracked = new TrackedTerms(db, t);
  }

  async object(type: string, sid: string): Promise<ObjectData | undefined> {
    const result = await this.db.query(`SELECT data FROM ${this.t.objects} WHERE type = $1 AND sid = $2`, [type, sid]);
    return result.rows.length === 0 ? undefined : JSON.parse(result.rows[0].data);
  }

  async exists(type: string, sid: string): Promise<boolean> {
    const result = await this.db.query(`SELECT 1 FROM ${this.t.objects} WHERE type = $1 AND sid = $2`, [type, sid]);
    return result.rows.length > 0;
  }

  async get(type: string, sid: string): Promise<ObjectRecord | undefined> {
    const result = await this.db.query(`SELECT ${RECORD_COLUMNS} FROM ${this.t.objects} o WHERE o.type = $1 AND o.sid = $2`, [type, sid]);
    return result.rows.length === 0 ? undefined : toRecord(result.rows[0]);
  }

  /** Whether a filter must look at every object of the type (a field without an index, or `ne`). */
  isScan(type: string, filter: readonly FilterClause[]): boolean {
    const indexed = indexedFields(this.schema, type);
    return filter.some((c) => c.op === 'ne' || !indexed.includes(c.field));
  }

  /**
   * Up to `limit` matches of `filter` in sid order ("C" collation: code points, as SQLite's BINARY),
   * after `afterSid` and up to `uptoSid` (inclusive) when given: sids, or records when `full`.
   */
  async range(type: string, filter: readonly FilterClause[], afterSid: string | undefined, uptoSid: string | undefined, limit: number, full: boolean): Promise<Array<string | ObjectRecord>> {
    const p = new Params();
    const where = [`o.type = ${p.add(type)}`, ...filter.map((c) => this.clause(type, c, p))];
    if (afterSid !== undefined) where.push(`o.sid > ${p.add(afterSid)}`);
    if (uptoSid !== undefined) where.push(`o.sid <= ${p.add(uptoSid)}`);
    const sql = `SELECT ${full ? RECORD_COLUMNS : 'o.sid'} FROM ${this.t.objects} o WHERE ${where.join(' AND ')} ORDER BY o.sid LIMIT ${p.add(limit)}`;
    const result = await this.db.query(sql, p.values);
    return result.rows.map((r) => (full ? toRecord(r) : r.sid));
  }

  /** The sid `count` objects after `afterSid` in sid order (the end of a scan's slice), or undefined when fewer remain. */
  async sliceEnd(type: string, afterSid: string | undefined, count: number): Promise<string | undefined> {
    const result = await this.db.query(
      `SELECT sid FROM ${this.t.objects} WHERE type = $1 AND ($2::text IS NULL OR sid > $2) ORDER BY sid LIMIT 1 OFFSET $3`,
      [type, afterSid ?? null, count - 1],
    );
    return result.rows[0]?.sid;
  }

  /**
   * One ranked full-text page (limit + 1 rows, to tell whether there is more): `ts_rank_cd` with length
   * normalisation 1 (rank / (1 + log(length))), best first, ties in the order the objects began their
   * current life (`id`, as SQLite breaks ties by rowid). The GIN index on `tsv` finds the matches.
   */
  async ranked(type: string, query: FindQuery, full: boolean): Promise<Array<string | ObjectRecord>> {
    const tsquery = textQuery(query.text!);
    if (tsquery === undefined) return [];
    const term = query.filter.length === 0 && !query.unranked ? singleLexeme(tsquery) : undefined;
    if (term !== undefined && (await this.tracked.has(type, term))) {
      const rows = await championPage(this.db, this.t, type, term, query.offset ?? 0, query.limit, full ? RECORD_COLUMNS : 'o.sid');
      this.paths.champions += rows ? 1 : 0;
      if (rows) return rows.map((r) => (full ? toRecord(r as unknown as RecordRow) : (r.sid as string)));
    }
    this.paths.gin++;
    const p = new Params();
    const q = `${p.add(tsquery)}::tsquery`;
    const where = [`o.type = ${p.add(type)}`, `o.tsv @@ ${q}`, ...query.filter.map((c) => this.clause(type, c, p))];
    const sql =
      `SELECT ${full ? RECORD_COLUMNS : 'o.sid'} FROM ${this.t.objects} o WHERE ${where.join(' AND ')} ` +
      `ORDER BY ${query.unranked ? '' : `ts_rank_cd(o.tsv, ${q}, 1) DESC, `}o.id LIMIT ${p.add(query.limit + 1)} OFFSET ${p.add(query.offset ?? 0)}`;
    const result = await this.db.query(sql, p.values);
    return result.rows.map((r) => (full ? toRecord(r) : r.sid));
  }

  /** One filter clause as SQL (values bound into `p`), with queries.ts's semantics. */
  private clause(type: string, clause: FilterClause, p: Params): string {
    const indexed = indexedFields(this.schema, type).includes(clause.field);
    const values = clause.op === 'in' ? (clause.value as unknown[]) : [clause.value];
    const keys = values.map((v) => {
      const key = indexed ? indexKey(v) : scanKey(v);
      if (key === undefined) throw new InvalidInputError(`filter on ${clause.field}: only strings, numbers and booleans can be compared`);
      return key;
    });
    const test = (row: string) => {
      if (clause.op === 'in') {
        const arrays = [0, 1, 2].map((i) => p.add(keys.map((k) => k[i])));
        return `${row} IN (SELECT * FROM unnest(${arrays[0]}::smallint[], ${arrays[1]}::float8[], ${arrays[2]}::bytea[]))`;
      }
      const op = clause.op === 'ne' ? '=' : ROW_OP[clause.op];
      return `${row} ${op} ${bindKey(keys[0], p)}`;
    };
    if (!indexed) {
      const field = p.add(clause.field);
      return clause.op === 'ne' ? `${jsonFieldKey(field)} IS DISTINCT FROM ${bindKey(keys[0], p)}` : test(jsonFieldKey(field));
    }
    const match = `SELECT 1 FROM ${this.t.index} i WHERE i.type = o.type AND i.field = ${p.add(clause.field)} AND i.sid = o.sid AND ${test('(i.kind, i.num, i.txt)')}`;
    return clause.op === 'ne' ? `NOT EXISTS (${match})` : `EXISTS (${match})`;
  }
}

/** A key as a row of three bound values. */
function bindKey(key: IndexKey, p: Params): string {
  return `(${p.add(key[0])}::smallint, ${p.add(key[1])}::float8, ${p.add(key[2])}::bytea)`;
}
