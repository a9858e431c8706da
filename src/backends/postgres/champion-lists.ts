import { CURRENT_STATE, type ProjectionTables, type Queryable } from './projection-schema';
import { scoreBound, type DocumentVector } from './projection-values';

/**
 * Champion lists of the PostgreSQL projection store: for a term in many objects of a type, the
 * postings that rank best for the one-term query, kept beside the GIN index so such a ranked page costs
 * O(page), not O(matches).
 *
 * For a one-lexeme tsquery `q`, `ts_rank_cd(tsv, q, 1)` depends only on the object's own tsvector, so
 * the score of a posting (term, object) is computed exactly, by PostgreSQL itself, when the object is
 * written. Per tracked (type, term):
 * - `champion_terms` holds the term's tsquery, whether its list is `ready`, and its frontier
 *   `(bound, bound_id)`: every posting of the term that is not in the list ranks at or after it in the
 *   page order (`score DESC, id`). A NULL bound means nothing was left out (the list is complete);
 * - `champions` holds the list: (type, term, score, id), each the current exact score of a live object.
 *
 * Writers keep both true inside the append transaction (`championCandidates` and `recordChampions`,
 * and the deletions in projection-apply.ts): a posting is recorded when it ranks before the frontier,
 * else it is left out (and ranks at or after the frontier). A page is answered from a list only when
 * its last row ranks strictly before the frontier: then no left-out posting can be in it, and it is
 * exactly the page of `ORDER BY ts_rank_cd(tsv, q, 1) DESC, id`. Otherwise the caller runs that query.
 * Terms get lists at a rebuild (`buildTypeLists`) or by promotion (champion-promotion.ts).
 */

/** Tuning of the champion lists (tests lower the thresholds). */
export interface ChampionSettings {
  /** Terms in at least this many objects of a type get a list (rarer ones rank fast through GIN). */
  minDf: number;
  /** Postings a list is built with: the deepest page it answers (offset + limit + 1). */
  champions: number;
  /** A process looks for terms to promote after applying this many events (and the type has grown). */
  checkEvery: number;
}

/** The defaults: chosen by measurement (README, PostgreSQL search). */
export const DEFAULT_CHAMPION_SETTINGS: ChampionSettings = { minDf: 10_000, champions: 200, checkEvery: 10_000 };

/** A type is searched for new frequent terms once it has grown by this factor since its last check. */
export const GROWTH = 1.25;

/** Per type, per tracked term: its frontier's score (null: no frontier, every posting is recorded). */
export type TrackedBounds = ReadonlyMap<string, ReadonlyMap<string, number | null>>;

/** The tracked terms of a generation and their frontier scores (float4, read exactly as float8). */
export async function loadTrackedBounds(db: Queryable, t: ProjectionTables): Promise<TrackedBounds> {
  const result = await db.query(`SELECT type, term, bound::float8 AS bound FROM ${t.championTerms}`);
  const bounds = new Map<string, Map<string, number | null>>();
  for (const row of result.rows) {
    let terms = bounds.get(row.type);
    if (!terms) bounds.set(row.type, (terms = new Map()));
    terms.set(row.term, row.bound === null ? null : Number(row.bound));
  }
  return bounds;
}

/**
 * Inside a transaction: lock the current-state checkpoint row (as every projection writer does first)
 * and bump its `champions` version. Every change of a live generation's tracked terms or frontiers
 * (promotion, rebuild swap) does this in its transaction, so a writer that holds the row lock sees a
 * version that says whether its copy of the bounds (`ChampionBoundsCache`) is current.
 */
export async function lockAndBumpVersion(db: Queryable, t: ProjectionTables): Promise<void> {
  await db.query(`UPDATE ${t.checkpoints} SET champions = champions + 1 WHERE name = '${CURRENT_STATE}'`);
}

/** The champions version of the checkpoint row (read by a writer that holds the row lock). */
export async function readVersion(db: Queryable, t: ProjectionTables): Promise<number> {
  const result = await db.query(`SELECT champions FROM ${t.checkpoints} WHERE name = '${CURRENT_STATE}'`);
  return Number(result.rows[0]?.champions ?? 0);
}

/**
 * A process's copy of the live generation's tracked bounds, keyed by the checkpoint row's champions
 * version: a writer holding the row lock passes the version it read, and the bounds are read again
 * only when it moved (no promotion or swap can move it while the lock is held).
 */
export class ChampionBoundsCache {
  private version = -1;
  private bounds: TrackedBounds = new Map();

  async get(db: Queryable, t: ProjectionTables, version: number): Promise<TrackedBounds> {
    if (version !== this.version) {
      this.bounds = await loadTrackedBounds(db, t);
      this.version = version;
    }
    return this.bounds;
  }
}

/** Relative error of `scoreBound` before the float4 rounding (the sum of 0.1s, the log and the division: about 1e-13). */
const BOUND_ERROR = 1e-12;

/**
 * The postings (row, term) of rows about to be written that may rank before their term's frontier:
 * every posting of a term without a frontier, and those whose score, bracketed from `scoreBound` and
 * rounded to float4 as PostgreSQL rounds it, may beat the frontier's. A posting whose score is surely
 * below, or surely equal for a row with a new id (larger than the frontier's id, so it ranks after it),
 * is left out without asking PostgreSQL. `fresh[i]` says row i gets a new id.
 */
export function championCandidates(types: readonly string[], vectors: readonly DocumentVector[], fresh: readonly boolean[], bounds: TrackedBounds): { rows: number[]; terms: string[] } {
  const rows: number[] = [];
  const terms: string[] = [];
  if (bounds.size === 0) return { rows, terms };
  vectors.forEach((vector, row) => {
    const tracked = bounds.get(types[row]);
    if (!tracked) return;
    for (const [term, positions] of vector.positions) {
      const bound = tracked.get(term);
      if (bound === undefined) continue;
      if (bound !== null) {
        const score = scoreBound(positions, vector.total);
        const high = Math.fround(score * (1 + BOUND_ERROR));
        if (high < bound) continue;
        if (fresh[row] && high === bound && Math.fround(score * (1 - BOUND_ERROR)) === bound) continue;
      }
      rows.push(row);
      terms.push(term);
    }
  });
  return { rows, terms };
}

/**
 * The tail of the upsert statement when there are candidates: from the CTE `written` (id, type, sid of
 * the rows just written) and the candidates (bound parameters: types, sids, terms and the rows' tsvector
 * text, the same text the upsert casts), record the postings whose exact score ranks before their term's
 * current frontier (or all, when it has none).
 */
export function recordChampions(t: ProjectionTables, written: string, params: [types: string, sids: string, terms: string, vectors: string]): string {
  const [types, sids, terms, vectors] = params;
  return `INSERT INTO ${t.champions} (type, term, score, id)
     SELECT c.type, c.term, c.score, w.id FROM (
       SELECT ct.type, k.sid, ct.term, ct.bound, ct.bound_id, ts_rank_cd(k.tsv::tsvector, ct.query, 1) AS score
       FROM unnest(${types}::text[], ${sids}::text[], ${terms}::text[], ${vectors}::text[]) AS k(type, sid, term, tsv)
         JOIN ${t.championTerms} ct ON ct.type = k.type COLLATE "C" AND ct.term = k.term COLLATE "C") c
       JOIN ${written} w ON w.type = c.type AND w.sid = c.sid COLLATE "C"
     WHERE c.bound IS NULL OR c.score > c.bound OR (c.score = c.bound AND w.id < c.bound_id)`;
}

/** The lexeme of a tsquery text that is one plain lexeme (`'word'`, as `textQuery` writes it), else undefined. */
export function singleLexeme(tsquery: string): string | undefined {
  const match = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(tsquery);
  return match ? match[1].replace(/''|\\(.)/gs, (_, escaped: string | undefined) => escaped ?? "'") : undefined;
}

/** A lexeme as tsquery input text (the inverse of `singleLexeme`). */
export function lexemeQuery(term: string): string {
  return `'${term.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** One row of a champion page: the object's columns are present for rows past the offset. */
interface ChampionRow {
  ready: boolean | null;
  complete: boolean | null;
  rn: string | null;
  sure: boolean | null;
  sid: string | null;
  [column: string]: unknown;
}

/**
 * The rows `offset .. offset + limit + 1` of the exact ranked page of a one-lexeme query from the term's
 * champion list (one statement, so one snapshot), with the columns `columns` of `objects o`; undefined
 * when the list cannot prove them (no ready list, or its rows run out before the frontier).
 */
export async function championPage(db: Queryable, t: ProjectionTables, type: string, term: string, offset: number, limit: number, columns: string): Promise<Array<Record<string, unknown>> | undefined> {
  const n = offset + limit + 1;
  const result = await db.query<ChampionRow>(
    `WITH ct AS (SELECT ready, bound, bound_id FROM ${t.championTerms} WHERE type = $1 AND term = $2),
     top AS (SELECT c.id, c.score, row_number() OVER (ORDER BY c.score DESC, c.id) AS rn
             FROM (SELECT id, score FROM ${t.champions} WHERE type = $1 AND term = $2 ORDER BY score DESC, id LIMIT $3) c)
     SELECT ct.ready, ct.bound IS NULL AS complete, top.rn,
       (ct.bound IS NULL OR top.score > ct.bound OR (top.score = ct.bound AND top.id < ct.bound_id)) AS sure, ${columns}
     FROM ct LEFT JOIN top ON true LEFT JOIN ${t.objects} o ON o.id = top.id AND top.rn > $4
     ORDER BY top.rn`,
    [type, term, n, offset],
  );
  const rows = result.rows;
  if (rows.length === 0 || !rows[0].ready) return undefined;
  const listed = rows.filter((r) => r.rn !== null);
  if (listed.length === n ? !listed[n - 1].sure : !rows[0].complete) return undefined;
  const page = listed.slice(offset);
  // Every listed object exists (postings go with their object); a missing one would be a bug: ask GIN.
  if (page.some((r) => r.sid === null)) return undefined;
  return page;
}

/**
 * The exact top `n` postings of a term in a type's objects, scored as the ranked page scores them (GIN
 * finds the matches, every match is scored): ids and scores (as text, which reads back exactly).
 */
export async function scanTop(db: Queryable, t: ProjectionTables, type: string, term: string, n: number): Promise<Array<{ id: string; score: string }>> {
  const result = await db.query(
    `SELECT id::text AS id, score::text AS score FROM (
       SELECT o.id, ts_rank_cd(o.tsv, $2::tsquery, 1) AS score FROM ${t.objects} o WHERE o.type = $1 AND o.tsv @@ $2::tsquery
       ORDER BY score DESC, o.id LIMIT $3) top`,
    [type, lexemeQuery(term), n],
  );
  return result.rows;
}

/**
 * The lexemes in at least `minDf` objects of `type` (one pass over the type's tsvectors), most frequent
 * first.
 */
export async function frequentTerms(db: Queryable, t: ProjectionTables, type: string, minDf: number): Promise<string[]> {
  const result = await db.query(
    `SELECT l.term FROM ${t.objects} o CROSS JOIN LATERAL unnest(tsvector_to_array(o.tsv)) AS l(term)
     WHERE o.type = $1 GROUP BY l.term HAVING count(*) >= $2 ORDER BY count(*) DESC, l.term`,
    [type, minDf],
  );
  return result.rows.map((r) => r.term as string);
}

/**
 * Build a term's list in tables no one else writes (a rebuild's shadow generation): its top
 * `champions` postings, and the next one as its frontier (none when the term has no more).
 */
export async function buildList(db: Queryable, t: ProjectionTables, type: string, term: string, champions: number): Promise<void> {
  await db.query(
    `WITH top AS (
       SELECT o.id, ts_rank_cd(o.tsv, $3::tsquery, 1) AS score FROM ${t.objects} o WHERE o.type = $1 AND o.tsv @@ $3::tsquery
       ORDER BY score DESC, o.id LIMIT $4 + 1),
     ranked AS (SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS rn FROM top),
     listed AS (INSERT INTO ${t.champions} (type, term, score, id) SELECT $1, $2, score, id FROM ranked WHERE rn <= $4)
     INSERT INTO ${t.championTerms} (type, term, query, ready, bound, bound_id)
     SELECT $1, $2, $3::tsquery, true, (SELECT score FROM ranked WHERE rn = $4 + 1), (SELECT id FROM ranked WHERE rn = $4 + 1)
     ON CONFLICT (type, term) DO UPDATE SET ready = true, bound = excluded.bound, bound_id = excluded.bound_id`,
    [type, term, lexemeQuery(term), champions],
  );
}

/** Record the object count of a type's promotion check (a rebuild's, or a promotion's). */
export async function markChecked(db: Queryable, t: ProjectionTables, type: string, objects: number): Promise<void> {
  await db.query(`INSERT INTO ${t.championChecks} (type, objects) VALUES ($1, $2) ON CONFLICT (type) DO UPDATE SET objects = excluded.objects`, [type, objects]);
}

/** The ready tracked terms of a type. */
export async function readyTerms(db: Queryable, t: ProjectionTables, type: string): Promise<string[]> {
  const result = await db.query(`SELECT term FROM ${t.championTerms} WHERE type = $1 AND ready`, [type]);
  return result.rows.map((r) => r.term as string);
}

/**
 * Give every term in at least `settings.minDf` of a type's `objects` objects a list, in tables no one
 * else writes (a rebuild's shadow generation), and record the check. Returns the terms.
 */
export async function buildTypeLists(db: Queryable, t: ProjectionTables, type: string, objects: number, settings: ChampionSettings): Promise<string[]> {
  if (objects < settings.minDf) return [];
  const terms = await frequentTerms(db, t, type, settings.minDf);
  for (const term of terms) await buildList(db, t, type, term, settings.champions);
  await markChecked(db, t, type, objects);
  return terms;
}
