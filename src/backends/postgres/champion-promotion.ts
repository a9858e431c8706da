import type { Pool, PoolClient } from 'pg';
import { GROWTH, frequentTerms, lexemeQuery, lockAndBumpVersion, markChecked, scanTop, type ChampionSettings } from './champion-lists';
import { transaction } from './projection-rebuild';
import { advisoryKey, projectionTables, type ProjectionTables, type Queryable } from './projection-schema';
import { checkout } from './sql';

/** What one promotion pass did for a type. */
export interface PromotionResult {
  /** Terms that got a list for the first time. */
  promoted: string[];
  /** Tracked terms whose list was rebuilt through GIN (it had shrunk below half its size, or a pass died building it). */
  refreshed: string[];
  /** Tracked terms whose list, grown past four times its size, was cut back to it (no GIN scan). */
  trimmed: string[];
}

/**
 * Give champion lists to the terms of `type` that are now in at least `settings.minDf` of its objects
 * (looked for when the type has grown by GROWTH since its last check), rebuild the lists of tracked
 * terms that deletions and updates have thinned, and cut back those that inserts have swollen
 * (`trimList`), in a live store beside
 * concurrent writers on any host. One promoter per store at a time (a session advisory lock; another
 * host's pass makes this one return empty). Every projection writer locks the current-state checkpoint
 * row first, so a transaction that holds that row lock sees no writer in flight; steps 1 and 3 also bump
 * the row's champions version, so every writer after them reads the terms and frontiers again:
 * 1. under the row lock, mark the terms `ready = false` with no frontier: every writer that commits
 *    after this records every posting of them, and pages of them go to GIN;
 * 2. without locks, find each term's exact top `champions + 1` postings (a statement that starts after
 *    step 1 committed, so every object it does not see is written after step 1, with its posting);
 * 3. under the row lock, for terms still marked (a rebuild may have swapped the tables meanwhile),
 *    record the current exact score of the objects of the top `champions` that still match (one changed
 *    since step 2 has its posting already, with this score), set the (champions + 1)-th as the frontier
 *    and drop the postings that rank at or after it: every listed posting ranks before the frontier,
 *    and every posting left out at or after it.
 * `keepGoing` is asked before each term's scan: a closing store stops there, and the next pass (on any
 * host) finishes the terms left marked.
 */
export async function promoteTerms(pool: Pool, schemaName: string, type: string, settings: ChampionSettings, keepGoing: () => boolean = () => true): Promise<PromotionResult> {
  const none: PromotionResult = { promoted: [], refreshed: [], trimmed: [] };
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
  if (objects < settings.minDf) return { promoted: [], refreshed: [], trimmed: [] };
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
    .filter((r) => !r.ready || Number(r.n) < settings.champions / 2)
    .map((r) => r.term as string);
  const trimmed: string[] = [];
  for (const row of lists.rows.filter((r) => r.ready && Number(r.n) > 4 * settings.champions)) {
    if (await transaction(client, () => trimList(client, t, type, row.term, settings.champions))) trimmed.push(row.term);
  }
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
      if (!keepGoing()) return { promoted: [], refreshed: [], trimmed: [] };
      const top = await scanTop(client, t, type, term, settings.champions + 1);
      await transaction(client, () => finishTerm(client, t, type, term, top, settings.champions));
    }
  }
  if (grown) await markChecked(client, t, type, objects);
  return { promoted, refreshed, trimmed };
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
  await client.query(
    `INSERT INTO ${t.champions} (type, term, score, id)
     SELECT o.type, ct.term, ts_rank_cd(o.tsv, ct.query, 1), o.id
     FROM ${t.objects} o JOIN ${t.championTerms} ct ON ct.type = o.type AND ct.term = $2
     WHERE o.id = ANY($3::bigint[]) AND o.type = $1 AND o.tsv @@ ct.query
     ON CONFLICT DO NOTHING`,
    [type, term, top.slice(0, champions).map((p) => p.id)],
  );
  if (frontier) {
    await client.query(`DELETE FROM ${t.champions} WHERE type = $1 AND term = $2 AND (score < $3::real OR (score = $3::real AND id >= $4::bigint))`, [
      type,
      term,
      frontier.score,
      frontier.id,
    ]);
  }
  return true;
}

/**
 * Cut a ready list of more than `champions` postings back to its best `champions` (inside the caller's
 * transaction, under the checkpoint row lock): the first posting cut becomes the frontier. Every posting
 * left out before ranked at or after the old frontier, which every listed posting ranks before, so it
 * ranks after the new one too. False when the list was not longer.
 */
export async function trimList(client: Queryable, t: ProjectionTables, type: string, term: string, champions: number): Promise<boolean> {
  await lockAndBumpVersion(client, t);
  // (every listed posting ranks before the old frontier; should one not, the cut could pass it: keep the list)
  const cut = await client.query(
    `SELECT c.score::text AS score, c.id::text AS id FROM ${t.champions} c JOIN ${t.championTerms} ct ON ct.type = c.type AND ct.term = c.term
     WHERE c.type = $1 AND c.term = $2 AND ct.ready AND (ct.bound IS NULL OR c.score > ct.bound OR (c.score = ct.bound AND c.id < ct.bound_id))
     ORDER BY c.score DESC, c.id OFFSET $3 LIMIT 1`,
    [type, term, champions],
  );
  if (cut.rows.length === 0) return false;
  const { score, id } = cut.rows[0];
  const marked = await client.query(`UPDATE ${t.championTerms} SET bound = $3::real, bound_id = $4::bigint WHERE type = $1 AND term = $2 AND ready`, [type, term, score, id]);
  if (marked.rowCount !== 1) return false;
  await client.query(`DELETE FROM ${t.champions} WHERE type = $1 AND term = $2 AND (score < $3::real OR (score = $3::real AND id >= $4::bigint))`, [type, term, score, id]);
  return true;
}
