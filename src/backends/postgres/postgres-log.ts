import type { Pool } from 'pg';
import { ClosedError, InvalidInputError } from '../../log/errors';
import type { EncodedEvent, ObjectData, ProposedEvent, StoredEvent, StreamState } from '../../log/event';
import type {
  AppendOptions,
  Durability,
  EventLog,
  IntegrityReport,
  LogWatcher,
  ReadAllOptions,
  UniqueSpec,
  WatchOptions,
} from '../../log/event-log';
import { GroupCommitter, type Outcome } from '../../log/group-commit';
import { decodeRawRows } from '../../log/raw-events';
import { openTimeoutMs } from '../../log/busy-retry';
import { writeBatch, type AppendRequest, type InAppendApply } from './append-batch';
import { CommitAnnouncer } from './commit-announcer';
import { createPool, inTransaction, type PoolOptions, type TransactionContext } from './connection';
import { readStreamStates, streamKey } from './event-rows';
import { importBatch } from './import-events';
import { createLogTables, ENCODED_COLUMNS, EVENT_COLUMNS, logTables, type LogTables } from './log-schema';
import { LogWatch } from './log-watch';
import { wrapPgError } from './pg-errors';
import { PgUniqueKeys } from './unique-keys';
import { parsePostgresUrl, type PostgresTarget } from './url';
import { verifyLog } from './verify';

/** Options of the PostgreSQL event log. */
export interface PostgresLogOptions extends PoolOptions {
  /** `full` (default): an acknowledged append is flushed to the server's WAL; `normal`: `synchronous_commit = off`. */
  durability?: Durability;
  unique?: UniqueSpec;
  /** How long an append retries deadlocks and serialization failures before LOCKED (default 30 s). */
  busyTimeoutMs?: number;
  /** Send NOTIFY after group commits (default true; false only to measure what it costs). */
  notify?: boolean;
  /** Most appends one group commit carries (default 1000). */
  maxBatch?: number;
  /**
   * With personal fields: called with stored data before unique claims are computed from it at open
   * (`unique` reveals sealed values synchronously: the data keys they need are loaded here).
   */
  openStored?: (data: readonly ObjectData[]) => Promise<void>;
}

/**
 * `postgres://USER@HOST:PORT/DB[?schema=NAME]`: the log as tables in one PostgreSQL schema, shared by
 * any number of processes on any number of hosts. Positions follow commit order through a counter row
 * taken inside each append transaction (see append-batch.ts); appends of one process that arrive
 * together share one transaction (group commit), each failing alone (savepoints, see `planBatch`).
 * One pool per log object; NOTIFY after each group commit from one place (`CommitAnnouncer`).
 */
export class PostgresEventLog implements EventLog {
  readonly backend = 'postgres';
  private readonly committer: GroupCommitter<AppendRequest, StoredEvent[]>;
  private readonly tx: TransactionContext;
  private readonly announcer: CommitAnnouncer;
  private readonly signals: LogWatch;
  private inAppend: InAppendApply | undefined;
  private closed = false;

  private constructor(
    /** The log's connection pool (a projection store of the same store may share it). */
    readonly pool: Pool,
    private readonly target: PostgresTarget,
    private readonly tables: LogTables,
    private readonly unique: PgUniqueKeys,
    options: PostgresLogOptions,
  ) {
    const retryForMs = options.busyTimeoutMs ?? 30_000;
    this.tx = { pool, durability: options.durability ?? 'full', display: target.display, retryForMs };
    this.committer = new GroupCommitter((batch) => this.commitBatch(batch), options.maxBatch ?? 1000);
    this.announcer = new CommitAnnouncer(pool, tables.channel, options.notify ?? true);
    this.signals = new LogWatch(pool, target, tables, retryForMs);
  }

  /**
   * Connect and create the store's schema and tables if missing (idempotent, under an advisory lock,
   * so many hosts may open a new store at once; waits up to the open timeout, then LOCKED). Errors name
   * the URL without its password: UNAVAILABLE for a server that cannot be reached, refused credentials
   * or a missing database; INVALID_INPUT for a malformed URL or schema name.
   */
  static async open(url: string, options: PostgresLogOptions = {}): Promise<PostgresEventLog> {
    const target = parsePostgresUrl(url);
    const tables = logTables(target.schema);
    const unique = new PgUniqueKeys(tables, options.unique ?? {}, options.openStored);
    const pool = createPool(target, options);
    const timeoutMs = openTimeoutMs();
    try {
      await inTransaction({ pool, durability: 'full', display: target.display, retryForMs: timeoutMs }, `cannot open ${target.display}`, async (client) => {
        await createLogTables(client, tables, timeoutMs);
        await unique.syncWithSpec(client);
      });
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresEventLog(pool, target, tables, unique, options);
  }

  /** The PostgreSQL schema holding the store. */
  get schema(): string {
    return this.tables.schema;
  }

  /** Register what runs inside each append (and import) transaction, after the insert (see `InAppendApply`). */
  applyInAppend(apply: InAppendApply | undefined): void {
    this.inAppend = apply;
  }

  append(events: readonly ProposedEvent[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    if (this.closed) return Promise.reject(new ClosedError());
    if (events.length === 0) return Promise.resolve([]);
    return this.committer.submit({ events, options });
  }

  private async commitBatch(batch: AppendRequest[]): Promise<Outcome<StoredEvent[]>[]> {
    const result = await inTransaction(this.tx, 'append failed', (client) => writeBatch(client, this.tables, this.unique, batch, this.inAppend));
    if (result.last > 0) this.committed(result.last);
    return result.outcomes;
  }

  /** After a commit that wrote up to `position`: this process's watchers now, other processes through NOTIFY. */
  private committed(position: number): void {
    this.signals.localCommit();
    this.announcer.announce(position);
  }

  /** See `EventLog.importEvents`: events keep their positions, ids, versions and timestamps; all or nothing. */
  async importEvents(events: readonly StoredEvent[]): Promise<void> {
    this.assertOpen();
    if (events.length === 0) return;
    await this.committer.idle();
    const last = await inTransaction(this.tx, 'import failed', (client) => importBatch(client, this.tables, this.unique, events, this.inAppend));
    this.committed(last);
  }

  async readStream(type: string, sid: string): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readEvents(`SELECT ${EVENT_COLUMNS} FROM ${this.tables.events} WHERE type = $1 AND sid = $2 ORDER BY version`, [type, sid]);
  }

  async streamState(type: string, sid: string): Promise<StreamState> {
    this.assertOpen();
    const states = await this.query(() => readStreamStates(this.pool, this.tables, [[type, sid]]));
    return states.get(streamKey(type, sid)) ?? { version: 0, exists: false };
  }

  async readAll(from: number, options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const where = this.range(from, options);
    if (!where) return [];
    return this.readEvents(`SELECT ${EVENT_COLUMNS} FROM ${this.tables.events} ${where.sql}`, where.values);
  }

  /** The events from `from` with data as the stored JSON text (rebuilds decode final states only). */
  async readAllEncoded(from: number, options: ReadAllOptions = {}): Promise<EncodedEvent[]> {
    this.assertOpen();
    const where = this.range(from, options);
    if (!where) return [];
    const result = await this.query(() =>
      this.pool.query({ text: `SELECT ${ENCODED_COLUMNS} FROM ${this.tables.events} ${where.sql}`, values: where.values, rowMode: 'array' }),
    );
    return (result.rows as EncodedRow[]).map((r) => ({ position: r[0], type: r[1], sid: r[2], kind: r[3], version: r[4], ts: r[5], data: r[6] }));
  }

  /** The WHERE … ORDER BY … LIMIT of a read from `from`; undefined when it cannot match anything. */
  private range(from: number, options: ReadAllOptions): { sql: string; values: unknown[] } | undefined {
    if (!Number.isInteger(from) || from < 0) throw new InvalidInputError(`from must be a position >= 0, got ${from}`);
    if (options.types?.length === 0) return undefined;
    const limit = options.limit ?? null;
    if (limit !== null && (!Number.isInteger(limit) || limit < 0)) throw new InvalidInputError(`limit must be a whole number >= 0, got ${limit}`);
    if (!options.types) return { sql: 'WHERE position >= $1 ORDER BY position LIMIT $2', values: [from, limit] };
    return { sql: 'WHERE position >= $1 AND type = ANY($3::text[]) ORDER BY position LIMIT $2', values: [from, limit, options.types] };
  }

  private async readEvents(text: string, values: unknown[]): Promise<StoredEvent[]> {
    const result = await this.query(() => this.pool.query({ text, values, rowMode: 'array' }));
    return decodeRawRows(result.rows);
  }

  /** Run a read, with errors as the store's typed errors. */
  private async query<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw wrapPgError(error, 'read failed', this.target.display);
    }
  }

  async head(): Promise<number> {
    this.assertOpen();
    const result = await this.query(() => this.pool.query<{ head: number }>(`SELECT coalesce(max(position), 0) AS head FROM ${this.tables.events}`));
    return result.rows[0].head;
  }

  /**
   * Signals this object's commits at once and other processes' and hosts' through LISTEN/NOTIFY, with
   * a poll of the counter row as the safety net (see `LogWatch`).
   */
  async watch(onChange: () => void, options: WatchOptions = {}): Promise<LogWatcher> {
    this.assertOpen();
    return this.signals.watch(onChange, options);
  }

  /** See `verifyLog`; changes nothing. */
  async verify(onProgress?: (done: number, total: number) => void): Promise<IntegrityReport> {
    this.assertOpen();
    return this.query(() => verifyLog(this.pool, this.tables, onProgress));
  }

  /** NOTIFYs sent so far (for measurements). */
  get notifications(): number {
    return this.announcer.count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.committer.idle();
    this.closed = true;
    await this.signals.close();
    await this.announcer.idle();
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }
}

/** One row of an encoded read, in `ENCODED_COLUMNS` order. */
type EncodedRow = [position: number, type: string, sid: string, kind: EncodedEvent['kind'], version: number, ts: number, data: string];
