import type { EncodedEvent, ProposedEvent, StoredEvent, StreamState } from './event';

/** Options for one atomic append. */
export interface AppendOptions {
  /**
   * A retried append with the same key returns the events of the original append instead of writing
   * new ones. Keys are global to the log.
   */
  idempotencyKey?: string;
}

/** Options for reading the global log. */
export interface ReadAllOptions {
  /** Maximum number of events to return (default: all up to the head at call time). */
  limit?: number;
  /** Only events of these types. */
  types?: readonly string[];
}

/** One integrity problem, located as precisely as the backend can. */
export interface IntegrityProblem {
  /** Where: a table, a segment file and byte offset, a position. */
  where: string;
  message: string;
}

/** What `EventLog.verify` found. */
export interface IntegrityReport {
  events: number;
  problems: IntegrityProblem[];
}

/** Options of `EventLog.watch`. */
export interface WatchOptions {
  /**
   * How often a backend that polls (SQLite's `PRAGMA data_version`, the file backend's fallback) looks
   * for other writers' commits, in ms. A hint: backends clamp it to their own bounds (default 20).
   */
  intervalMs?: number;
  /** Called once if watching fails for good; the watcher is closed by then. */
  onError?: (error: unknown) => void;
}

/** A running `EventLog.watch`. */
export interface LogWatcher {
  /** Stop watching; no `onChange` call follows. Idempotent. */
  close(): Promise<void>;
}

/** Durability of an acknowledged append. */
export type Durability = 'full' | 'normal';

/** Key of `UniqueSpec`'s optional reveal function (a symbol: never listed among the types). */
export const REVEAL: unique symbol = Symbol('osis.reveal');

/**
 * Declared unique fields per type: enforced by the log inside the append. `[REVEAL]`, when present,
 * maps a stored field value to its plaintext (personal fields are stored encrypted; see
 * `src/log/personal/`), so claims are made on plaintext.
 */
export type UniqueSpec = Readonly<Record<string, readonly string[]>> & { readonly [REVEAL]?: (field: string, stored: unknown) => unknown };

/**
 * The storage contract every backend implements (memory, sqlite, file, postgres).
 *
 * Musts:
 * - **Atomic batches.** The events of one `append` call are committed all together or not at all.
 * - **Positions** are assigned in commit order, start at 1, strictly increase, and are never reused,
 *   not even after a failed append or a deleted tail.
 * - **A conflict writes nothing.** A failed expected-version check, a unique-key violation or any other
 *   error rejects the whole call and leaves the log as it was.
 * - **Versions** per object start at 1 and grow by 1 per event; `created` needs an object that does not
 *   currently exist, `updated`/`deleted` one that does.
 * - **Unique fields** declared in the `UniqueSpec` the log was opened with hold across every writer of
 *   the log, including other processes.
 * - **Idempotency.** An append repeating an earlier `idempotencyKey` returns the earlier events.
 * - Every method is async; a backend may batch concurrent appends into one physical commit
 *   (group commit) as long as each call stays atomic and independent of the others' failures.
 */
export interface EventLog {
  /** Short backend name: 'memory', 'sqlite', 'file', 'postgres'. */
  readonly backend: string;

  /** Atomically append events; resolves with them as stored, in order. */
  append(events: readonly ProposedEvent[], options?: AppendOptions): Promise<StoredEvent[]>;

  /** Every event of one object, oldest first. Empty when the object never existed. */
  readStream(type: string, sid: string): Promise<StoredEvent[]>;

  /** The stream's current version and whether the object exists. */
  streamState(type: string, sid: string): Promise<StreamState>;

  /** Events with `position >= from`, in position order. */
  readAll(from: number, options?: ReadAllOptions): Promise<StoredEvent[]>;

  /**
   * Optional: the events `readAll` returns, with data left as the stored text (JSON unless the log
   * offers `decodeEncodedData`), so that rebuilds decode only each object's final state, not every event.
   */
  readAllEncoded?(from: number, options?: ReadAllOptions): Promise<EncodedEvent[]>;

  /**
   * Optional, with `readAllEncoded`: decode an `EncodedEvent.data` text. A log whose encoded data is not
   * JSON text (the file log keeps each record's TOML data table) offers it; without it, data is JSON.
   */
  decodeEncodedData?(data: string): Record<string, unknown>;

  /** Position of the last committed event, 0 for an empty log. */
  head(): Promise<number>;

  /**
   * Optional capability: call `onChange` (no arguments) soon after the log may have grown, so a change
   * feed need not poll `readAll`. A signal is a hint, never data: signals may be coalesced or spurious,
   * and the reader re-reads from its own position. Musts when implemented:
   * - an append through this log object signals right after it commits (no poll wait);
   * - commits by other connections or processes on the same store signal within about `intervalMs`
   *   (SQLite: `PRAGMA data_version` polling; file: `fs.watch` with a polling fallback; PostgreSQL:
   *   LISTEN/NOTIFY);
   * - every commit that happens after the returned promise resolves is signalled at least once;
   * - the watcher holds no reference that keeps the process alive (timers are `unref`ed);
   * - closing the log ends its watchers with `onError(ClosedError)`.
   */
  watch?(onChange: () => void, options?: WatchOptions): Promise<LogWatcher>;

  /**
   * Optional capability: append events that already carry positions, ids, versions and timestamps, as
   * read from another log (copying a store). They must continue this log exactly (the first position is
   * `head() + 1`, the rest consecutive) and obey the append rules and unique keys; the call is all or
   * nothing. A `meta.idempotencyKey` is registered as the idempotency key of the consecutive events
   * that carry it, so retries keep working in the copy.
   */
  importEvents?(events: readonly StoredEvent[]): Promise<void>;

  /** Optional: check the stored log's integrity (checksums, positions, versions) without changing it. */
  verify?(onProgress?: (done: number, total: number) => void): Promise<IntegrityReport>;

  /** Flush and release resources. Later calls fail with `CLOSED`. Idempotent. */
  close(): Promise<void>;
}
