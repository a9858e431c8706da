import type { PoolClient } from 'pg';
import type { StoredEvent, StreamState } from '../../log/event';
import { applyImportRules, idempotencyRuns } from '../../log/append-rules';
import type { InAppendApply } from './append-batch';
import { insertEvents, lockWholeLog, readStreamStates, streamKey } from './event-rows';
import type { LogTables } from './log-schema';
import type { PgUniqueKeys } from './unique-keys';

/**
 * `EventLog.importEvents` in the caller's transaction: events that already carry positions, ids,
 * versions and timestamps, continuing the log exactly. It takes the log's lock exclusively (no append
 * of any process is between its checks and its commit meanwhile) and then the counter row, in the same
 * order as appends take theirs (see append-batch.ts), checks every event against the append rules and
 * unique keys, inserts them (and hands them to `inAppend`), and moves the counter to the last one.
 * Returns the last position.
 */
export async function importBatch(
  client: PoolClient,
  t: LogTables,
  unique: PgUniqueKeys,
  events: readonly StoredEvent[],
  inAppend?: InAppendApply,
): Promise<number> {
  await lockWholeLog(client, t);
  const head = await client.query<{ position: number }>(`SELECT position FROM ${t.head} WHERE id = 1 FOR UPDATE`);
  const next = head.rows[0].position + 1;
  const streams = new Map<string, readonly [string, string]>();
  for (const e of events) streams.set(streamKey(e.type, e.sid), [e.type, e.sid]);
  const states = await readStreamStates(client, t, [...streams.values()]);
  const none: StreamState = { version: 0, exists: false };
  const claimants = events.map((event, i) => {
    const k = streamKey(event.type, event.sid);
    const before = states.get(k) ?? none;
    states.set(k, applyImportRules(event, i, next + i, before));
    return { event, existed: before.exists };
  });
  await unique.apply(client, claimants);
  await insertEvents(client, t, events);
  await inAppend?.(client, events);
  const last = events[events.length - 1].position;
  await client.query(`UPDATE ${t.head} SET position = $1 WHERE id = 1`, [last]);
  const runs = [...idempotencyRuns(events)];
  if (runs.length > 0) {
    await client.query(
      `INSERT INTO ${t.idempotency} (key, first_position, last_position) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
       ON CONFLICT (key) DO NOTHING`,
      [runs.map(([key]) => key), runs.map(([, run]) => run[0].position), runs.map(([, run]) => run[run.length - 1].position)],
    );
  }
  return last;
}
