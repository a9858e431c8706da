import type { Pool, PoolClient } from 'pg';
import { CorruptError } from '../../log/errors';
import type { EventLog, IntegrityProblem } from '../../log/event-log';
import type { StoreSchema } from '../../projections/config';
import { foldLog, foldParity, parityHash, type FoldedLog, type ProgressFn } from '../../projections/fold';
import type { RebuildResult } from '../../projections/projection-store';
import { applyEvents, foldedRow, readCheckpoint, saveCheckpoint, writeRows, type ObjectRow } from './projection-apply';
import type { PgCountQueries } from './projection-counts';
import { advisoryKey, dropGenerationSql, freshShadow, projectionTables, swapShadowIn, type ProjectionTables, type Queryable } from './projection-schema';
import { checkout } from './sql';
import { buildTypeLists, DEFAULT_CHAMPION_SETTINGS, loadTrackedBounds, lockAndBumpVersion, type ChampionSettings, type TrackedBounds } from './champion-lists';

/** No tracked terms: what a rebuild's bulk writes record (the lists are built after them). */
const NO_LISTS: TrackedBounds = new Map();

/** Objects written per statement (and per transaction) while a rebuild fills the shadow tables. */
const WRITE_BATCH = 2_000;
/** Rows read per page when hashing or comparing a table. */
const READ_PAGE = 5_000;
/** Events read per batch while catching the shadow up inside the swap. */
const CATCH_UP_BATCH = 10_000;

/** Run `work` in one transaction on `client` (BEGIN … COMMIT, ROLLBACK on a throw). */
export async function transaction<T>(client: PoolClient, work: () => Promise<T>, begin = 'BEGIN'): Promise<T> {
  await client.query(begin);
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Every object of a generation's table, read in pages of `READ_PAGE` by id: type, sid, version and
 * the stored JSON text (what the parity hash covers).
 */
export async function readAllObjects(db: Queryable, table: string): Promise<Array<{ type: string; sid: string; version: number; json: string; data: null }>> {
  const all: Array<{ type: string; sid: string; version: number; json: string; data: null }> = [];
  for (let after = 0; ; ) {
    const page = await db.query(`SELECT id, type, sid, version, data FROM ${table} WHERE id > $1 ORDER BY id LIMIT ${READ_PAGE}`, [after]);
    for (const r of page.rows) all.push({ type: r.type, sid: r.sid, version: Number(r.version), json: r.data, data: null });
    if (page.rows.length < READ_PAGE) return all;
    after = Number(page.rows[page.rows.length - 1].id);
  }
}

/**
 * Blue-green rebuild. Under a session advisory lock (one rebuild per store across hosts; another
 * host's rebuild is waited for, and `stillNeeded`, asked once the lock is held, may call it off):
 * fold the log, write the fold into fresh shadow tables in batches (live tables keep serving reads and
 * appends), compare the shadow's parity hash with the fold's, then in one transaction lock the
 * checkpoint row and the live tables (in-flight appends finish first; new ones wait), apply what the
 * log gained meanwhile to the shadow, drop the live tables, rename the shadow to live and move the
 * checkpoints. A parity mismatch throws CORRUPT and leaves the live tables as they were.
 */
export async function blueGreenRebuild(
  pool: Pool,
  schemaName: string,
  schema: StoreSchema,
  log: EventLog,
  onProgress?: ProgressFn,
  stillNeeded: () => Promise<boolean> = async () => true,
  champions: ChampionSettings = DEFAULT_CHAMPION_SETTINGS,
): Promise<RebuildResult | undefined> {
  const client = await checkout(pool);
  const key = advisoryKey(schemaName, 'rebuild');
  let released = false;
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
    try {
      if (!(await stillNeeded())) return undefined;
      return await rebuildUnderLock(client, schemaName, schema, log, champions, onProgress);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    }
  } catch (error) {
    // A connection that failed mid-rebuild may still hold the session lock: do not return it to the pool.
    client.release(error as Error);
    released = true;
    throw error;
  } finally {
    if (!released) client.release();
  }
}

async function rebuildUnderLock(client: PoolClient, schemaName: string, schema: StoreSchema, log: EventLog, champions: ChampionSettings, onProgress?: ProgressFn): Promise<RebuildResult> {
  const shadow = await transaction(client, () => freshShadow(client, schemaName));
  const live = projectionTables(schemaName);
  try {
    const folded = await foldLog(log, {}, onProgress);
    const expected = foldParity(folded);
    const rows = [...folded.objects.values()].map(foldedRow).filter((r): r is ObjectRow => r !== undefined);
    for (let i = 0; i < rows.length; i += WRITE_BATCH) {
      await transaction(client, () => writeRows(client, shadow, schema, rows.slice(i, i + WRITE_BATCH), NO_LISTS));
    }
    const parity = parityHash(await readAllObjects(client, shadow.objects));
    if (parity !== expected) throw new CorruptError(`rebuild parity mismatch at position ${folded.position}: tables ${parity}, log ${expected}`);
    const perType = new Map<string, number>();
    for (const row of rows) perType.set(row.type, (perType.get(row.type) ?? 0) + 1);
    for (const [type, objects] of perType) await transaction(client, () => buildTypeLists(client, shadow, type, objects, champions));
    const position = await transaction(client, async () => {
      await readCheckpoint(client, live, true);
      await client.query(`LOCK TABLE ${live.objects}, ${live.index} IN ACCESS EXCLUSIVE MODE`);
      let reached = folded.position;
      for (;;) {
        const events = await log.readAll(reached + 1, { limit: CATCH_UP_BATCH });
        if (events.length === 0) break;
        await applyEvents(client, shadow, schema, events, await loadTrackedBounds(client, shadow));
        reached = events[events.length - 1].position;
      }
      await swapShadowIn(client, schemaName);
      await saveCheckpoint(client, live, reached);
      await lockAndBumpVersion(client, live); // writers read the new generation's tracked terms
      return reached;
    });
    return { events: folded.events, objects: rows.length, position, parity };
  } catch (error) {
    await client.query(dropGenerationSql(shadow)).catch(() => undefined);
    throw error;
  }
}

/**
 * Compare the live tables with an independent fold: the checkpoint, every object's version and data
 * (parsed, compared as the SQLite store compares them), the number of objects, and the maintained
 * counts and facets against a recount.
 */
export async function checkParity(db: Queryable, t: ProjectionTables, counts: PgCountQueries, folded: FoldedLog): Promise<IntegrityProblem[]> {
  const problems: IntegrityProblem[] = [];
  const checkpoint = await readCheckpoint(db, t);
  if (checkpoint !== folded.position) problems.push({ where: 'projection objects', message: `checkpoint ${checkpoint} but log head ${folded.position}` });
  const stored = new Map((await readAllObjects(db, t.objects)).map((o) => [`${o.type}\0${o.sid}`, o]));
  let objects = 0;
  for (const [key, object] of folded.objects) {
    if (object.data === null) continue;
    objects++;
    const row = stored.get(key);
    if (!row) problems.push({ where: `projection ${object.type}/${object.sid}`, message: 'missing from the current state' });
    else if (row.version !== object.version || JSON.stringify(JSON.parse(row.json)) !== JSON.stringify(object.data)) {
      problems.push({ where: `projection ${object.type}/${object.sid}`, message: `differs from the log (version ${row.version} vs ${object.version})` });
    }
  }
  if (stored.size !== objects) problems.push({ where: 'projection objects', message: `${stored.size} objects but the log folds to ${objects}` });
  for (const row of await counts.typeMismatches()) {
    problems.push({ where: `projection object_counts ${row.type}`, message: `${row.kept} counted but ${row.actual} objects` });
  }
  for (const row of await counts.facetMismatches()) {
    problems.push({ where: `projection object_facets ${row.type}.${row.field}`, message: `count of value ${JSON.stringify(row.value)} differs from the index` });
  }
  return problems;
}
