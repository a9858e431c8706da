/**
 * One group commit of the PostgreSQL log: the appends a process received together, written in one
 * transaction, each failing alone.
 *
 * ## Positions follow commit order, and a tail never skips (no time threshold)
 *
 * A reader that tails by position (`readAll(from)`) must never see position p while an event below p
 * can still commit later, or it moves past that event for good. BIGSERIAL positions break this: a
 * sequence hands out numbers at INSERT time, and transactions commit in another order.
 *
 * Here positions come from a counter row, `log_head`, and are taken inside the append transaction,
 * after everything that can fail on its own has been checked (phase 1), in the statement that inserts
 * the events (phase 2, see `insertAtCounter`):
 *
 *     WITH h AS (UPDATE log_head SET position = position + n WHERE id = 1 RETURNING position)
 *     INSERT INTO events … SELECT h.position - n + ordinality, … FROM h, unnest(…) WITH ORDINALITY
 *
 * The UPDATE takes the row lock and keeps it until COMMIT or ROLLBACK. So:
 * 1. Two transactions that both append cannot both hold positions uncommitted: the second one's UPDATE
 *    waits until the first has ended, then reads the counter the first left (READ COMMITTED re-reads the
 *    committed row). Positions are handed out in the order the transactions commit.
 * 2. A transaction that rolls back also rolls back its counter update: the next one gets the same
 *    numbers, so no position is ever a hole that a reader would have to wait for or skip.
 * 3. PostgreSQL makes a committed transaction visible (ProcArray) before it releases its locks, so when
 *    a reader's snapshot contains position p, the transaction that held p-1 and ended before p's
 *    transaction could take the row was already visible to that snapshot. A statement's snapshot is
 *    therefore always a prefix 1..h of the log: `readAll(from)` returns a contiguous run, and the next
 *    call continues from where it stopped without missing anything.
 * 4. Only appenders touch the row. An unrelated long transaction in another session takes no lock on it
 *    and appears in no decision here, so it never holds the tail back (unlike xid/snapshot-xmin designs).
 *
 * The cost is that appends of all processes serialise on that row from phase 2 to COMMIT (one
 * statement and the commit's WAL flush). Group commit makes one such turn carry every append a process
 * received meanwhile, and phase 1 (the checks, unique claims and idempotency keys, which may wait on
 * other transactions) runs before the row is taken, so the row is never held while waiting for anything
 * but the flush. Counter holders never wait for any other lock, so they cannot be part of a deadlock.
 *
 * Phase 1 first takes, in one statement and in a fixed order, a transaction-scoped advisory lock per
 * stream, per unique value claimed and per idempotency key of the batch (see `lockStreams`). So the
 * stream states it reads stay right until commit, and its row writes (unique claims, idempotency keys)
 * can only wait for a transaction that waits for nothing of ours (one releasing a value we claim):
 * appenders do not deadlock each other. The events are inserted only in phase 2: the requests of a
 * batch see each other's effects through an in-memory overlay of stream states; a request that fails
 * undoes its rows alone through a savepoint (see `planBatch`).
 */
import type { PoolClient } from 'pg';
import type { ProposedEvent, StoredEvent, StreamState } from '../../log/event';
import type { AppendOptions } from '../../log/event-log';
import { applyAppendRules } from '../../log/append-rules';
import type { Outcome } from '../../log/group-commit';
import { newEventId } from '../../log/ids';
import { insertAtCounter, lockStreams, readRange, readStreamStates, streamKey } from './event-rows';
import type { LogTables } from './log-schema';
import { isConnectionLoss, isRetryable, streamConflictOf } from './pg-errors';
import type { Queryable } from './sql';
import type { PgUniqueKeys } from './unique-keys';

/** One `append` call waiting in the group commit. */
export interface AppendRequest {
  events: readonly ProposedEvent[];
  options: AppendOptions;
}

/** What phase 1 decided for one request. */
type Plan =
  | { kind: 'write'; events: Array<{ event: ProposedEvent; version: number }>; key?: string }
  | { kind: 'earlier'; events: StoredEvent[] }
  | { kind: 'same-as'; index: number }
  | { kind: 'failed'; error: unknown };

/**
 * Called inside the append transaction, with its connection, after the events are inserted (all the
 * events of the group commit, in position order), so projections commit or roll back with them
 * (`PostgresProjectionStore.applyInAppend`). Throwing rejects every append of that group commit.
 */
export type InAppendApply = (client: Queryable, events: readonly StoredEvent[]) => Promise<unknown>;

/** The result of a committed batch: each request's outcome and the last position written (0: none). */
export interface BatchResult {
  outcomes: Outcome<StoredEvent[]>[];
  last: number;
}

/**
 * Write `batch` in the caller's transaction (see the module comment). Errors that concern the whole
 * transaction (deadlock, serialization failure, lost connection) are thrown, so the caller can retry or
 * report it; a request's own failure becomes its outcome.
 */
export async function writeBatch(
  client: PoolClient,
  t: LogTables,
  unique: PgUniqueKeys,
  batch: readonly AppendRequest[],
  inAppend?: InAppendApply,
): Promise<BatchResult> {
  const streams = new Map<string, readonly [string, string]>();
  const values = new Set<string>();
  for (const request of batch) {
    for (const e of request.events) streams.set(streamKey(e.type, e.sid), [e.type, e.sid]);
    for (const key of unique.lockKeys(request.events)) values.add(key);
    if (request.options.idempotencyKey !== undefined) values.add(`idempotency:${request.options.idempotencyKey}`);
  }
  await lockStreams(client, t, [...streams.keys(), ...values]);
  const states = await readStreamStates(client, t, [...streams.values()]);
  const plans = await planBatch(client, t, unique, batch, states);
  const count = plans.reduce((n, p) => n + (p.kind === 'write' ? p.events.length : 0), 0);
  if (count === 0) return { outcomes: plans.map((p, i) => outcomeOf(p, plans, [], i)), last: 0 };

  // Phase 2: take positions (the counter row lock, held to COMMIT) and insert, in one statement.
  const now = Date.now();
  const ts = new Date(now).toISOString();
  let position = 0;
  const written: StoredEvent[][] = plans.map((plan) =>
    plan.kind !== 'write'
      ? []
      : plan.events.map(({ event, version }) => ({
          position: ++position,
          id: newEventId(now),
          type: event.type,
          sid: event.sid,
          kind: event.kind,
          version,
          ts,
          data: event.data,
          ...(event.meta ? { meta: event.meta } : {}),
        })),
  );
  const rows = written.flat();
  const runs = plans.flatMap((p, i) =>
    p.kind === 'write' && p.key !== undefined ? [{ key: p.key, first: written[i][0].position, last: written[i][written[i].length - 1].position }] : [],
  );
  let last: number;
  try {
    last = await insertAtCounter(client, t, rows, runs);
  } catch (error) {
    throw streamConflictOf(error, rows) ?? error;
  }
  for (const event of rows) event.position += last - count;
  await inAppend?.(client, rows);
  return { outcomes: plans.map((p, i) => outcomeOf(p, plans, written, i)), last };
}

/**
 * Phase 1 for the whole batch. Requests that write rows (idempotency keys, unique claims) need undoing
 * alone when they fail; failures are rare, so the batch first runs under one savepoint, and only when
 * such a request fails is everything undone and run again with a savepoint per request (each request
 * is checked again, so the outcomes are the same either way). A batch of one needs no savepoint: its
 * failure rolls back the transaction.
 */
async function planBatch(
  client: PoolClient,
  t: LogTables,
  unique: PgUniqueKeys,
  batch: readonly AppendRequest[],
  states: Map<string, StreamState>,
): Promise<Plan[]> {
  if (batch.length === 1) return planAll(client, t, unique, batch, states, 'alone');
  if (!batch.some((request) => writesRows(unique, request))) return planAll(client, t, unique, batch, states, 'savepoints');
  await client.query('SAVEPOINT append_batch');
  try {
    const plans = await planAll(client, t, unique, batch, new Map(states), 'optimistic');
    await client.query('RELEASE append_batch');
    return plans;
  } catch (error) {
    if (!(error instanceof RowsToUndo)) throw error;
    await client.query('ROLLBACK TO append_batch; RELEASE append_batch');
  }
  return planAll(client, t, unique, batch, states, 'savepoints');
}

/**
 * How a failing request is undone: `alone` (the transaction's rollback does it: the error is thrown),
 * `savepoints` (a savepoint per request that writes rows), `optimistic` (no savepoint: a failing
 * request that wrote rows throws `RowsToUndo`, and the batch runs again with savepoints).
 */
type UndoMode = 'alone' | 'savepoints' | 'optimistic';

/** Thrown in the optimistic pass when a failed request has rows to undo. */
class RowsToUndo extends Error {}

/** Whether phase 1 of `request` writes rows (and so must be undone by a rollback when it fails). */
function writesRows(unique: PgUniqueKeys, request: AppendRequest): boolean {
  return request.options.idempotencyKey !== undefined || request.events.some((e) => unique.covers(e.type));
}

async function planAll(
  client: PoolClient,
  t: LogTables,
  unique: PgUniqueKeys,
  batch: readonly AppendRequest[],
  states: Map<string, StreamState>,
  mode: UndoMode,
): Promise<Plan[]> {
  const plans: Plan[] = [];
  const keyOwners = new Map<string, number>();
  for (let i = 0; i < batch.length; i++) {
    const plan = await planRequest(client, t, unique, batch[i], states, mode, keyOwners);
    if (plan.kind === 'write' && plan.key !== undefined) keyOwners.set(plan.key, i);
    plans.push(plan);
  }
  return plans;
}

/**
 * Phase 1 for one request: its idempotency key, the append rules against the stream states (the
 * database's, overlaid with the batch's earlier requests), its unique claims. `states` is updated only
 * when the request succeeds.
 */
async function planRequest(
  client: PoolClient,
  t: LogTables,
  unique: PgUniqueKeys,
  request: AppendRequest,
  states: Map<string, StreamState>,
  mode: UndoMode,
  keyOwners: Map<string, number>,
): Promise<Plan> {
  const key = request.options.idempotencyKey;
  const rows = writesRows(unique, request);
  const savepoint = mode === 'savepoints' && rows;
  if (savepoint) await client.query('SAVEPOINT append_request');
  try {
    if (key !== undefined) {
      const claimed = await client.query(`INSERT INTO ${t.idempotency} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, [key]);
      if (claimed.rowCount === 0) {
        if (savepoint) await client.query('RELEASE append_request');
        return earlierOutcome(client, t, key, keyOwners);
      }
    }
    const staged = new Map<string, StreamState>();
    const events: Array<{ event: ProposedEvent; version: number; existed: boolean }> = [];
    for (const event of request.events) {
      const k = streamKey(event.type, event.sid);
      const before = staged.get(k) ?? states.get(k) ?? { version: 0, exists: false };
      const after = applyAppendRules(event, before);
      staged.set(k, after);
      events.push({ event, version: after.version, existed: before.exists });
    }
    await unique.apply(client, events);
    if (savepoint) await client.query('RELEASE append_request');
    for (const [k, state] of staged) states.set(k, state);
    return { kind: 'write', events, ...(key !== undefined ? { key } : {}) };
  } catch (error) {
    if (isRetryable(error) || isConnectionLoss(error)) throw error;
    if (savepoint) await client.query('ROLLBACK TO append_request; RELEASE append_request');
    else if (rows && mode === 'alone') throw error;
    else if (rows) throw new RowsToUndo();
    return { kind: 'failed', error };
  }
}

/** A key already used: by a committed append (its events), or by an earlier request of this batch. */
async function earlierOutcome(client: PoolClient, t: LogTables, key: string, keyOwners: Map<string, number>): Promise<Plan> {
  const owner = keyOwners.get(key);
  if (owner !== undefined) return { kind: 'same-as', index: owner };
  const row = await client.query<{ first_position: number; last_position: number }>(
    `SELECT first_position, last_position FROM ${t.idempotency} WHERE key = $1`,
    [key],
  );
  const { first_position: first, last_position: last } = row.rows[0];
  return { kind: 'earlier', events: await readRange(client, t, first, last) };
}

function outcomeOf(plan: Plan, plans: Plan[], written: StoredEvent[][], index: number): Outcome<StoredEvent[]> {
  switch (plan.kind) {
    case 'write':
      return { ok: true, value: written[index].map((e) => structuredClone(e)) };
    case 'earlier':
      return { ok: true, value: plan.events };
    case 'same-as':
      return outcomeOf(plans[plan.index], plans, written, plan.index);
    case 'failed':
      return { ok: false, error: plan.error };
  }
}
