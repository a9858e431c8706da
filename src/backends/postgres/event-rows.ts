import type { StoredEvent, StreamState } from '../../log/event';
import { decodeRawRows } from '../../log/raw-events';
import { EVENT_COLUMNS, type LogTables } from './log-schema';
import type { Queryable } from './sql';
import { streamStateOf } from '../../log/append-rules';

/** The key of one object's stream in maps. */
export function streamKey(type: string, sid: string): string {
  return JSON.stringify([type, sid]);
}

/**
 * The current state of each `[type, sid]` stream, one indexed lookup per stream (newest version first);
 * streams without events are absent from the map.
 */
export async function readStreamStates(db: Queryable, t: LogTables, streams: ReadonlyArray<readonly [string, string]>): Promise<Map<string, StreamState>> {
  const states = new Map<string, StreamState>();
  if (streams.length === 0) return states;
  const result = await db.query<{ type: string; sid: string; version: number; kind: string }>(
    `SELECT s.type, s.sid, e.version, e.kind FROM unnest($1::text[], $2::text[]) AS s(type, sid)
     CROSS JOIN LATERAL (SELECT version, kind FROM ${t.events} e WHERE e.type = s.type AND e.sid = s.sid ORDER BY version DESC LIMIT 1) e`,
    [streams.map((s) => s[0]), streams.map((s) => s[1])],
  );
  for (const row of result.rows) states.set(streamKey(row.type, row.sid), streamStateOf(row));
  return states;
}

/** Events with positions `first..last`, in order. */
export async function readRange(db: Queryable, t: LogTables, first: number, last: number): Promise<StoredEvent[]> {
  const result = await db.query({
    text: `SELECT ${EVENT_COLUMNS} FROM ${t.events} WHERE position BETWEEN $1 AND $2 ORDER BY position`,
    values: [first, last],
    rowMode: 'array',
  });
  return decodeRawRows(result.rows);
}

/** Insert events as given (positions, ids, versions and timestamps already set), data and meta as JSON text. */
export async function insertEvents(db: Queryable, t: LogTables, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO ${t.events} (position, id, type, sid, kind, version, ts, data, meta)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::text[], $9::text[])`,
    [events.map((e) => e.position), ...columnArrays(events)],
  );
}

/** Positions `first..last` of an idempotency key's events, counted from 1 within the insert. */
export interface KeyedRun {
  key: string;
  first: number;
  last: number;
}

/**
 * Phase 2 of an append (see append-batch.ts) in one statement: move the counter row by the number of
 * `events` (taking its lock until COMMIT), insert them at the positions that follow, and record the
 * positions of the idempotency keys. `events[i].position` and the runs' positions are ignored and
 * relative (1-based) respectively; returns the counter's new value (the last position).
 */
export async function insertAtCounter(db: Queryable, t: LogTables, events: readonly StoredEvent[], runs: readonly KeyedRun[]): Promise<number> {
  const result = await db.query<{ position: number }>(
    `WITH h AS (UPDATE ${t.head} SET position = position + $1 WHERE id = 1 RETURNING position),
          e AS (INSERT INTO ${t.events} (position, id, type, sid, kind, version, ts, data, meta)
                SELECT h.position - $1 + u.n, u.id, u.type, u.sid, u.kind, u.version, u.ts, u.data, u.meta
                  FROM h, unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::text[], $9::text[])
                       WITH ORDINALITY AS u(id, type, sid, kind, version, ts, data, meta, n)),
          k AS (UPDATE ${t.idempotency} AS i SET first_position = h.position - $1 + r.f, last_position = h.position - $1 + r.l
                  FROM h, unnest($10::text[], $11::bigint[], $12::bigint[]) AS r(key, f, l) WHERE i.key = r.key)
     SELECT position FROM h`,
    [events.length, ...columnArrays(events), runs.map((r) => r.key), runs.map((r) => r.first), runs.map((r) => r.last)],
  );
  return result.rows[0].position;
}

/** The columns after `position` of an event insert, as arrays for `unnest`. */
function columnArrays(events: readonly StoredEvent[]): unknown[][] {
  return [
    events.map((e) => e.id),
    events.map((e) => e.type),
    events.map((e) => e.sid),
    events.map((e) => e.kind),
    events.map((e) => e.version),
    events.map((e) => e.ts),
    events.map((e) => JSON.stringify(e.data)),
    events.map((e) => (e.meta ? JSON.stringify(e.meta) : null)),
  ];
}

/**
 * Lock what a transaction is about to write (streams, unique values, idempotency keys: `keys`), so the
 * states it reads stay true until it commits: a shared lock on the whole log plus, in a fixed order
 * (against deadlocks between batches), one transaction-scoped advisory lock per key. Past `maxKeys`
 * keys (PostgreSQL's lock table is small) it takes the log's lock exclusively instead, as bulk imports
 * do. Hash collisions only make unrelated writers wait for each other.
 */
export async function lockStreams(db: Queryable, t: LogTables, keys: readonly string[], maxKeys = 128): Promise<void> {
  if (keys.length > maxKeys) {
    await lockWholeLog(db, t);
    return;
  }
  await db.query(
    `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0)),
            (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtext($2), k)
                                     FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest($3::text[]) AS s ORDER BY 1) AS o) AS l)`,
    [`osis-store log:${t.schema}`, `osis-store stream:${t.schema}`, keys],
  );
}

/** The log's lock, exclusively: no append of any process is between its first read and its commit meanwhile. */
export async function lockWholeLog(db: Queryable, t: LogTables): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`osis-store log:${t.schema}`]);
}
