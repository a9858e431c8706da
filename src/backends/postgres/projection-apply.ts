import { createHash } from 'node:crypto';
import type { StoredEvent } from '../../log/event';
import { fullTextBody, indexedFields, type StoreSchema } from '../../projections/config';
import type { FoldedObject } from '../../projections/fold';
import { CURRENT_STATE, FULL_TEXT, type ProjectionTables, type Queryable } from './projection-schema';
import { documentVectorOf, indexKey } from './projection-values';
import { championCandidates, recordChampions, type TrackedBounds } from './champion-lists';
import { endsLife } from '../../log/append-rules';

/** One object's row as it is written: the state after its last event, with its dates in ms. */
export interface ObjectRow {
  type: string;
  sid: string;
  data: Record<string, unknown>;
  /** The stored text of `data` (`JSON.stringify(data)`, or the log's own text when a fold kept it). */
  json: string;
  version: number;
  position: number;
  createdAt: number;
  updatedAt: number;
}

/** Where one batch leaves an object: the row to write (null when deleted), and whether its old row goes first. */
interface Outcome {
  type: string;
  sid: string;
  /** A deletion happened in the batch: the row it had before the batch is removed first (a new life gets a new id). */
  restart: boolean;
  /**
   * The object may have rows from before the batch: its first event here is not `created` (the log
   * accepts `created` only for an object that does not exist, so there is nothing to delete first).
   */
  existed: boolean;
  row: ObjectRow | null;
  /** Position of the event that began the row's life in this batch (its order among new rows). */
  began: number;
}

/**
 * Fold a batch of events per object, in position order, into what it leaves behind: the same result as
 * applying the events one by one (SQLite's `CurrentStateProjection.apply`), written with a few
 * statements per batch instead of a round trip per event. An object's row keeps its id and created_at
 * across updates (the upsert keeps them); a deletion removes it, and a later creation inserts a new row.
 */
function planBatch(events: readonly StoredEvent[]): Outcome[] {
  const outcomes = new Map<string, Outcome>();
  for (const event of events) {
    const key = `${event.type}\0${event.sid}`;
    let outcome = outcomes.get(key);
    if (!outcome) outcomes.set(key, (outcome = { type: event.type, sid: event.sid, restart: false, existed: event.kind !== 'created', row: null, began: event.position }));
    if (endsLife(event.kind)) {
      outcome.restart = true;
      outcome.row = null;
      continue;
    }
    const ms = Date.parse(event.ts);
    const json = JSON.stringify(event.data);
    if (outcome.row) Object.assign(outcome.row, { data: event.data, json, version: event.version, position: event.position, updatedAt: ms });
    else {
      outcome.row = { type: event.type, sid: event.sid, data: event.data, json, version: event.version, position: event.position, createdAt: ms, updatedAt: ms };
      outcome.began = event.position;
    }
  }
  return [...outcomes.values()];
}

/**
 * Apply committed events, in position order, to one generation of tables inside the caller's
 * transaction: current state, field index, full text and champion postings (`bounds`: the generation's
 * tracked terms, current under the checkpoint row lock the caller holds); the statement-level triggers
 * keep the counts.
 * New rows are inserted in the order their objects began their current life (as SQLite assigns ids),
 * so ranked text ties come out alike after a rebuild.
 */
export async function applyEvents(client: Queryable, t: ProjectionTables, schema: StoreSchema, events: readonly StoredEvent[], bounds: TrackedBounds): Promise<void> {
  if (events.length === 0) return;
  const outcomes = planBatch(events);
  // Postings exist only for tracked terms: a type without any has none to delete.
  const listed = (o: Outcome) => bounds.has(o.type);
  await deleteKeys(client, t.objects, outcomes.filter((o) => o.restart && o.existed && !listed(o)));
  await deleteObjects(client, t, outcomes.filter((o) => o.restart && o.existed && listed(o)));
  // An object that lives on keeps its id: its champion postings go, and writeRows records them again.
  await deleteKeys(client, t.champions, outcomes.filter((o) => o.existed && !o.restart && o.row !== null && listed(o)), `SELECT id FROM ${t.objects} WHERE (type, sid) IN`);
  await deleteKeys(client, t.index, outcomes.filter((o) => o.existed && indexedFields(schema, o.type).length > 0));
  const rows = outcomes.filter((o) => o.row !== null).sort((a, b) => a.began - b.began);
  await writeRows(client, t, schema, rows.map((o) => o.row!), bounds, rows.map((o) => o.restart || !o.existed));
}

/** Delete the rows of the given objects from a table keyed by (type, sid), or by id through `byId` (a select of ids by (type, sid)). */
async function deleteKeys(client: Queryable, table: string, keys: readonly Outcome[], byId?: string): Promise<void> {
  if (keys.length === 0) return;
  const match = '(SELECT * FROM unnest($1::text[], $2::text[]))';
  const where = byId ? `id IN (${byId} ${match})` : `(type, sid) IN ${match}`;
  await client.query(`DELETE FROM ${table} WHERE ${where}`, [keys.map((k) => k.type), keys.map((k) => k.sid)]);
}

/** Delete objects' rows and their champion postings (one statement). */
async function deleteObjects(client: Queryable, t: ProjectionTables, keys: readonly Outcome[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query(
    `WITH gone AS (DELETE FROM ${t.objects} WHERE (type, sid) IN (SELECT * FROM unnest($1::text[], $2::text[])) RETURNING id)
     DELETE FROM ${t.champions} WHERE id IN (SELECT id FROM gone)`,
    [keys.map((k) => k.type), keys.map((k) => k.sid)],
  );
}

/**
 * Upsert rows (in the given order: new rows take ids in it) and their field-index rows, with one
 * statement each; the checkpoint is the caller's. Existing rows keep id and created_at (their old
 * champion postings are the caller's to delete first). When some postings of the rows may rank before
 * their term's frontier in `bounds` (`championCandidates`; `fresh[i]`: row i gets a new id), the
 * upsert's statement also records those that do (`recordChampions`).
 */
export async function writeRows(
  client: Queryable,
  t: ProjectionTables,
  schema: StoreSchema,
  rows: readonly ObjectRow[],
  bounds: TrackedBounds,
  fresh: readonly boolean[] = rows.map(() => false),
): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof ObjectRow>(k: K) => rows.map((r) => r[k]);
  const vectors = rows.map((r) => documentVectorOf(fullTextBody(schema, r.type, r.data)));
  const upsert = `INSERT INTO ${t.objects} (type, sid, data, version, position, created_at, updated_at, tsv)
     SELECT type, sid, data, version, position, created_at, updated_at, tsv::tsvector
     FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[])
       WITH ORDINALITY AS u(type, sid, data, version, position, created_at, updated_at, tsv, ord)
     ORDER BY ord
     ON CONFLICT (type, sid) DO UPDATE SET data = excluded.data, version = excluded.version, position = excluded.position,
       updated_at = excluded.updated_at, tsv = excluded.tsv`;
  const values = [col('type'), col('sid'), col('json'), col('version'), col('position'), col('createdAt'), col('updatedAt'), vectors.map((v) => v.text)];
  const candidates = championCandidates(values[0] as string[], vectors, fresh, bounds);
  if (candidates.rows.length === 0) await client.query(upsert, values);
  else {
    const pick = <T>(of: readonly T[]) => candidates.rows.map((i) => of[i]);
    const text = `WITH written AS (${upsert} RETURNING id, type, sid) ${recordChampions(t, 'written', ['$9', '$10', '$11', '$12'])}`;
    // A named (server-side prepared) statement: planned once per connection, not once per batch.
    const name = `osis_champions_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    await client.query({ name, text, values: [...values, pick(col('type')), pick(col('sid')), candidates.terms, pick(vectors.map((v) => v.text))] });
  }
  const index: Array<[string, string, number, number, Buffer, string]> = [];
  for (const row of rows) {
    for (const field of indexedFields(schema, row.type)) {
      const key = Object.prototype.hasOwnProperty.call(row.data, field) ? indexKey(row.data[field]) : undefined;
      if (key) index.push([row.type, field, ...key, row.sid]);
    }
  }
  if (index.length === 0) return;
  await client.query(
    `INSERT INTO ${t.index} (type, field, kind, num, txt, sid)
     SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::float8[], $5::bytea[], $6::text[]) ON CONFLICT DO NOTHING`,
    [0, 1, 2, 3, 4, 5].map((i) => index.map((r) => r[i])),
  );
}

/** A folded object as a row to write (rebuilds), or undefined when it is deleted. */
export function foldedRow(object: FoldedObject): ObjectRow | undefined {
  if (object.data === null) return undefined;
  const { type, sid, data, version, position, createdAt, updatedAt } = object;
  return { type, sid, data, json: object.json ?? JSON.stringify(data), version, position, createdAt, updatedAt };
}

/** Move the current-state and full-text checkpoints to `position` (inside the caller's transaction). */
export async function saveCheckpoint(client: Queryable, t: ProjectionTables, position: number): Promise<void> {
  await client.query(`UPDATE ${t.checkpoints} SET position = $1 WHERE name IN ('${CURRENT_STATE}', '${FULL_TEXT}')`, [position]);
}

/**
 * Move the checkpoints from `from` to `to` when they are at `from` (one statement: the check and the
 * move), returning the row's champions version (`lockAndBumpVersion`); undefined when they were
 * elsewhere and nothing moved. The row stays locked until the caller's
 * transaction ends, as with `readCheckpoint(…, true)`.
 */
export async function advanceCheckpoint(client: Queryable, t: ProjectionTables, from: number, to: number): Promise<number | undefined> {
  const result = await client.query(
    `UPDATE ${t.checkpoints} SET position = $2 WHERE name IN ('${CURRENT_STATE}', '${FULL_TEXT}') AND position = $1 RETURNING name, champions`,
    [from, to],
  );
  if (result.rowCount !== 2) return undefined;
  return Number(result.rows.find((r) => r.name === CURRENT_STATE).champions);
}

/** The current-state checkpoint, locked until the caller's transaction ends when `lock` is set. */
export async function readCheckpoint(client: Queryable, t: ProjectionTables, lock = false): Promise<number> {
  const result = await client.query(`SELECT position FROM ${t.checkpoints} WHERE name = '${CURRENT_STATE}'${lock ? ' FOR UPDATE' : ''}`);
  return result.rows.length === 0 ? 0 : Number(result.rows[0].position);
}
