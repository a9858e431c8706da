import type { ObjectData, StoredEvent } from '../log/event';
import type { EventLog, IntegrityProblem } from '../log/event-log';
import type { FoldLimit, FoldedLog, ProgressFn } from './fold';

export type { ProgressFn } from './fold';

/** Comparison operators a filter may use. */
export type FilterOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';

/** One validated filter clause: `field op value`. */
export interface FilterClause {
  field: string;
  op: FilterOp;
  value: unknown;
}

/** An object with its bookkeeping, as read from the current state. */
export interface ObjectRecord {
  object: ObjectData;
  version: number;
  position: number;
  created_at: string;
  updated_at: string;
}

/** A page of results: sids or whole records, and where the next page starts. */
export interface Page<T> {
  items: T[];
  /** Sid after which the next page starts (sid order), when there may be more. */
  nextAfterSid?: string;
  /** Offset of the next page (ranked text order), when there may be more. */
  nextOffset?: number;
}

/** One validated `_list`/`_find` request: no filter and no text is a list in sid order. */
export interface FindQuery {
  filter: readonly FilterClause[];
  /** Full-text query; when given, results are ranked (BM25 or the store's equivalent) and paged by offset. */
  text?: string;
  /**
   * With `text`: the matches in the order the objects began their current life instead of ranked (a
   * cheap sample of a search, as the web UI's facets take; no work per match beyond the page).
   */
  unranked?: boolean;
  limit: number;
  afterSid?: string;
  offset?: number;
}

/**
 * Bounds on the reads of one request, shared by every read it makes (the JSON-RPC service passes one
 * per HTTP request). Reads charge what they take and stop early, with a cursor, when a bound is
 * reached; a read that cannot make any progress throws `refuse(bound)`.
 */
export interface ReadBudget {
  /** Bytes of JSON items the reads may still return (at least one item per read when any is left). */
  bytes: number;
  /** Objects scans (filters on fields without an index) may still examine. */
  scanRows: number;
  /** Checked between slices: an aborted read rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The error a read throws when a bound is already used up before it starts. */
  refuse(bound: 'bytes' | 'scanRows'): Error;
}

/** One value of an indexed field with the number of objects holding it. */
export interface FacetValue {
  value: string | number;
  count: number;
}

/** The most frequent values of one indexed field. */
export interface Facet {
  field: string;
  values: FacetValue[];
  /** Distinct values, counted up to the cap asked for plus one. */
  distinct: number;
}

/** What a blue-green rebuild did. */
export interface RebuildResult {
  events: number;
  objects: number;
  position: number;
  /** Parity hash of the new tables; equal to the hash of an independent fold of the log. */
  parity: string;
}

/** A named subscriber's kind: at-least-once `subscribe`, or exactly-once `project`. */
export type SubscriberKind = 'subscriber' | 'projection';

/** One durable subscriber checkpoint. */
export interface SubscriberCheckpoint {
  name: string;
  kind: SubscriberKind;
  /** Every event at or below this position has been handled. */
  position: number;
  /** When the checkpoint last moved (ms since the epoch). */
  updatedAt: number;
}

/**
 * What a user projection's handler works in: a transaction of the projection store's own kind, which
 * also moves the projection's checkpoint. The SQLite store gives `{ kind: 'sqlite', db }` (better-sqlite3,
 * synchronous handler); the PostgreSQL store gives `{ kind: 'postgres', client }` (a `pg` client inside
 * `BEGIN … COMMIT`, so its handler may be async). Never BEGIN or COMMIT yourself.
 */
export interface ProjectionTransaction {
  /** The projection store's kind: 'sqlite', 'postgres'. */
  readonly kind: string;
  /** The user projection's name. */
  readonly name: string;
}

/** A user projection's handler: the events past its checkpoint, and the store's transaction. */
export type UserProjectionHandler<Tx extends ProjectionTransaction> = (events: StoredEvent[], tx: Tx) => unknown;

/**
 * The contract of a projection store: where the current state, the field index, the full-text index,
 * the maintained counts and the subscriber checkpoints of one store live (SQLite for `sqlite:`, `file:`
 * and `memory:`; PostgreSQL for `postgres:`). The log is the truth; everything here is derived from it
 * and can be rebuilt from it, except the subscriber checkpoints and user projections' tables, which
 * record work done outside.
 *
 * Musts:
 * - **Checkpoints.** Every derived table set has a checkpoint: the last log position it reflects. Events
 *   are applied in position order, each exactly once, and the checkpoint moves in the same transaction
 *   as the rows (a crash leaves rows and checkpoint agreeing).
 * - **When events arrive.** A backend either applies a batch inside the log's append transaction (the
 *   SQLite store on `sqlite:`: an error there rejects the append) or right after the append commits
 *   (`catchUp(log, appended)`: an error there never un-acknowledges the append; the store stays behind
 *   and catches up before the next read). The backend declares which (`BackendAbilities.projections`).
 * - **What a reader sees.** A read through this contract reflects at least every event the same process
 *   had acknowledged when the read began (read your writes), and the current state of every object is
 *   the fold of its events up to one checkpoint (no torn object). Counts are history-independent: they
 *   depend on the current objects, not on the order of the events that made them.
 * - **What may lag.** The full-text index may be built asynchronously, after the current state; a
 *   text `find` first brings it level with the current state. Nothing else may lag.
 * - **Reads do not write** derived tables, except to apply events the log has and the store lacks
 *   (`catchUp`), which the api calls explicitly before a read.
 * - **Rebuild** is blue-green: new tables are derived from the whole log beside the live ones, checked
 *   against an independent fold by their parity hash, caught up, and swapped in atomically. Readers use
 *   the live tables until the swap. Replicas opening together rebuild once.
 * - **User projections** run exactly once per store, not once per process or host: the handler's writes
 *   and the projection's checkpoint commit in one transaction that first re-reads the checkpoint, so a
 *   batch another process already applied is skipped. Subscriber checkpoints live here too, so on a log
 *   shared by several hosts they are shared by every host (the PostgreSQL store keeps them in PostgreSQL).
 * - Every method is async. A store may serialise its own writes; the synchronous work of one call
 *   stays below this boundary (no `await` per row).
 */
export interface ProjectionStore<Tx extends ProjectionTransaction = ProjectionTransaction> {
  /** 'sqlite' or 'postgres'. */
  readonly kind: string;

  /**
   * Bring the current state up to the log's head: apply `appended` directly when it follows the
   * checkpoint, then read whatever else is missing from the log. Safe to call from several processes.
   */
  catchUp(log: EventLog, appended?: readonly StoredEvent[]): Promise<void>;
  /** At open: rebuild when the tables cannot be continued from their checkpoint, then catch up. */
  openLevel(log: EventLog): Promise<void>;
  /** Forget the checkpoints (the log under them changed): the next `openLevel` rebuilds. */
  invalidate(): Promise<void>;
  /** The current state's checkpoint. */
  position(): Promise<number>;
  /** Checkpoints of the built-in projections by name (`objects`, `fulltext`). */
  checkpoints(): Promise<Record<string, number>>;

  /** The current object, without bookkeeping; undefined when absent. */
  object(type: string, sid: string): Promise<ObjectData | undefined>;
  /** The current object with its version, position and dates; undefined when absent. */
  get(type: string, sid: string): Promise<ObjectRecord | undefined>;
  exists(type: string, sid: string): Promise<boolean>;
  /**
   * One page of sids (or records when `full`) of `type`: filter clauses all hold, text matches rank
   * first, else sid order. Stops early with a cursor when `budget` runs out.
   */
  find(type: string, query: FindQuery, full: boolean, budget?: ReadBudget): Promise<Page<string | ObjectRecord>>;
  /** The same page as the live tables would have answered at a log position or a moment (folds the log). */
  findAt(log: EventLog, at: FoldLimit, type: string, query: FindQuery, full: boolean): Promise<Page<string | ObjectRecord>>;

  /** Objects per type, maintained (no scan). */
  counts(): Promise<Record<string, number>>;
  /** Objects of `type` whose indexed `field` holds `value` (its index form), maintained. */
  countOf(type: string, field: string, value: string | number): Promise<number>;
  /** The `top` most frequent values of an indexed field; no values when it has more than `cap`. */
  facet(type: string, field: string, top: number, cap: number): Promise<Facet>;
  /** Facet counts of the indexed fields over the given objects. */
  facetsOf(type: string, sids: readonly string[]): Promise<Map<string, FacetValue[]>>;

  /** Blue-green rebuild from the whole log (see the musts). */
  rebuild(log: EventLog, onProgress?: ProgressFn): Promise<RebuildResult>;
  /**
   * Compare the live tables with an independent fold of the log: every object, the checkpoint, and the
   * maintained counts against a recount. Returns the differences (none when the projections are right).
   */
  checkParity(folded: FoldedLog): Promise<IntegrityProblem[]>;

  /** A subscriber's checkpoint, if it has one. */
  subscriberCheckpoint(name: string): Promise<SubscriberCheckpoint | undefined>;
  /** Move a subscriber's checkpoint forward (never back). */
  saveSubscriberCheckpoint(name: string, kind: SubscriberKind, position: number): Promise<void>;
  /** Every subscriber checkpoint, by name. */
  subscriberCheckpoints(): Promise<SubscriberCheckpoint[]>;
  /**
   * Run a user projection over one batch: in one transaction, re-read its checkpoint, hand `handler` the
   * events past it, and move the checkpoint to `through`. Returns the checkpoint after the call.
   */
  project(name: string, events: readonly StoredEvent[], through: number, handler: UserProjectionHandler<Tx>): Promise<number>;
  /** Read user projections' tables, serialised with projection writes (`fn` must not write). */
  read<T>(fn: (tx: Tx) => T): Promise<T>;

  /** Stop background work and release the store's own resources. */
  close(): Promise<void>;
}
