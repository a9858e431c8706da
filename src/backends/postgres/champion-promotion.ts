import type { Pool, PoolClient } from 'pg';
import { GROWTH, frequentTerms, lexemeQuery, lockAndBumpVersion, markChecked, scanTop, type ChampionSettings } from './champion-lists';
import { transaction } from './projection-rebuild';
import { advisoryKey, projectionTables, type ProjectionTables } from './projection-schema';
import { checkout } from './sql';

/** What one promotion pass did for a type. */
export interface PromotionResult {
  /** Terms that got a list for the first time. */
  promoted: string[];
  /** Tracked terms whose list was rebuilt (it had shrunk below half its size, grown past four times, or a pass died building it). */
  refreshed: string[];
}

/**
 * Give champion lists to the terms of `type` that are now in at least `settings.minDf` of its objects
 * (looked for when the type has grown by GROWTH since its last check), and rebuild the lists of tracked
 * terms that deletions and updates have thinned (or inserts have swollen), in a live store beside
 * concurrent writers on any host. One promoter per store at a time (a session advisory lock; another
 * host's pass makes this one return empty). Every projection writer locks the current-state checkpoint
 * row first, so a transaction that holds that row lock sees no writer in flight; steps 1 and 3 also bump
 * the row's champions version, so every writer after them reads the terms and frontiers again:
 * 1. under the row lock, mark the terms `ready = false` with no frontier: every writer that commits
 *    after this records every posting of them, and pages of them go to GIN;
 * 2. without locks, find each term's exact top `champions + 1` postings (a statement that starts after
 *    step 1 committed, so every object it does not see is written after step 1, with its posting);
 * 3. under the row lock, for terms still marked (a rebuild may have swapped the tables meanwhile),
 *    drop the postings that rank at or after the (champions + 1)-th, record the current exact score of
 *    the objects of the top `champions` that still match (one changed since step 2 has its posting
 *    already, with this score), and set that frontier: every posting left out now ranks at or after it.
 * `keepGoing` is asked before each term's scan: a closing store stops there, and the next pass (on any
 * host) finishes the terms left marked.
 */
export async function promoteTerms(pool: Pool, schemaName: string, type: string, settings: ChampionSettings, keepGoing: () => boolean = () => true): Promise<PromotionResult> {
  const none: PromotionResult = { promoted: [], refreshed: [] };
  const client = await checkout(pool);
  const key = advisoryKey(schemaName, 'champions');
  let failed: Error | undefined;
  try {
    const locked = await client.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
    if (!locked.rows[0].ok) return none;
    try {
      return await promoteUnderLock(client, projectionTables(schemaName), type, settings, keepGoing);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
    }
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    // A connection that failed may still hold the session lock: do not return it to the pool.
    client.release(failed);
  }
}

async function promoteUnderLock(client: PoolClient, t: ProjectionTables, type: string, settings: ChampionSettings, keepGoing: () => boolean): Promise<PromotionResult> {
  const counted = await client.query(`SELECT n FROM ${t.counts} WHERE type = $1`, [type]);
  const objects = Number(counted.rows[0]?.n ?? 0);
  if (objects < settings.minDf) return { promoted: [], refreshed: [] };
  const checked = await client.query(`SELECT objects FROM ${t.championChecks} WHERE type = $1`, [type]);
  const grown = objects >= GROWTH * Number(checked.rows[0]?.objects ?? 0);
  const lists = await client.query(
    `SELECT ct.term, ct.ready, (SELECT count(*) FROM ${t.champions} c WHERE c.type = ct.type AND c.term = ct.term) AS n
     FROM ${t.championTerms} ct WHERE ct.type = $1`,
    [type],
  );
  const tracked = new Set(lists.rows.map((r) => r.term as string));
  const refreshed = lists.rows
    // A term left unready was marked by a pass that died (no other pass runs: the lock is held).
    .filter((r) => !r.ready || Number(r.n) < settings.champions / 2 || Number(r.n) > 4 * settings.champions)
    .map((r) => r.term as string);
  const promoted = grown ? (await frequentTerms(client, t, type, settings.minDf)).filter((term) => !tracked.has(term)) : [];
  const terms = [...promoted, ...refreshed];
  if (terms.length > 0) {
    await transaction(client, async () => {
      await lockAndBumpVersion(client, t);
      await client.query(
        `INSERT INTO ${t.championTerms} (type, term, query, ready) SELECT $1, term, query::tsquery, false FROM unnest($2::text[], $3::text[]) AS u(term, query)
         ON CONFLICT (type, term) DO UPDATE SET ready = false, bound = NULL, bound_id = NULL`,
        [type, terms, terms.map(lexemeQuery)],
      );
    });
    for (const term of terms) {
      // a term left marked (the store is closing) is finished by the next pass, on any host
      if (!keepGoing()) return { promoted: [], refreshed: [] };
      const top = await scanTop(client, t, type, term, settings.champions + 1);
      await transaction(client, () => finishTerm(client, t, type, term, top, settings.champions));
    }
  }
  if (grown) await markChecked(client, t, type, objects);
  return { promoted, refreshed };
}

/** Step 3 for one term (inside the caller's transaction); false when its mark is gone. */
async function finishTerm(client: PoolClient, t: ProjectionTables, type: string, term: string, top: Array<{ id: string; score: string }>, champions: number): Promise<boolean> {
  await lockAndBumpVersion(client, t);
  const frontier = top.length > champions ? top[champions] : undefined;
  const marked = await client.query(
    `UPDATE ${t.championTerms} SET ready = true, bound = $3::real, bound_id = $4::bigint WHERE type = $1 AND term = $2 AND NOT ready RETURNING query`,
    [type, term, frontier?.score ?? null, frontier?.id ?? null],
  );
  if (marked.rows.length === 0) return false;
  if (frontier) {
    await client.query(`DELETE FROM ${t.champions} WHERE type = $1 AND term = $2 AND (score < $3::real OR (score = $3::real AND id >= $4::bigint))`, [
      type,
      term,
      frontier.score,
      frontier.id,
    ]);
  }
  await client.query(
    `INSERT INTO ${t.champions} (type, term, score, id)
     SELECT o.type, ct.term, ts_rank_cd(o.tsv, ct.query, 1), o.id
     FROM ${t.objects} o JOIN ${t.championTerms} ct ON ct.type = o.type AND ct.term = $2
     WHERE o.id = ANY($3::bigint[]) AND o.type = $1 AND o.tsv @@ ct.query
     ON CONFLICT DO NOTHING`,
    [type, term, top.slice(0, champions).map((p) => p.id)],
  );
  return true;
}
