import type Database from 'better-sqlite3';
import * as path from 'node:path';
import { ClosedError, InvalidInputError } from '../../log/errors';
import type { EncodedEvent, ProposedEvent, StoredEvent, StreamState } from '../../log/event';
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
import { applyAppendRules, applyImportRules, idempotencyRuns, streamStateOf, isCanonicalTimestamp } from '../../log/append-rules';
import { ChangeNotifier, type WatchedFiles } from '../../log/change-notifier';
import { GroupCommitter, type Outcome } from '../../log/group-commit';
import { newEventId } from '../../log/ids';
import { ConnectionBusy, isLockBusy, retryOpening, retryWhileBusy } from '../../log/busy-retry';
import { openSqlite, wrapSqliteError } from './connection';
import { ENCODED_COLUMNS, EVENT_COLUMNS, LOG_SCHEMA, allowErasedKind, type EncodedRow, type EventRow } from './log-schema';
import { rowToEvent } from './raw-rows';
import { decodeRawRows } from '../../log/raw-events';
import { UniqueKeyTable } from './unique-keys';
import { LogDamage, checkIntegrity, rowDamageOf } from './integrity';
import { WalCheckpointer, type WalCheckpointOptions } from './wal-checkpointer';

/** Options of the SQLite event log. */
export interface SqliteLogOptions {
  durability?: Durability;
  unique?: UniqueSpec;
  busyTimeoutMs?: number;
  /** When and how the store checkpoints the WAL itself (see WalCheckpointer). */
  walCheckpoint?: WalCheckpointOptions;
  /**
   * Zero deleted content (`PRAGMA secure_delete`) from the moment the database opens: stores with
   * personal fields, whose unique claims and projections hold plaintext.
   */
  secureDelete?: boolean;
}

/**
 * Called inside the append transaction (in the request's savepoint) with the events just inserted, so
 * inline projections commit atomically with them. Throwing rejects that append alone.
 */
export type InlineApply = (events: StoredEvent[]) => void;

interface AppendRequest {
  events: readonly ProposedEvent[];
  options: AppendOptions;
}

/**
 * `sqlite:PATH`: the log as an `events` table (AUTOINCREMENT positions, never reused) in a WAL database.
 * Writers take `BEGIN IMMEDIATE`; concurrent appends share one transaction with a savepoint each.
 */
export class SqliteEventLog implements EventLog {
  readonly backend = 'sqlite';
  private readonly statements;
  private readonly committer = new GroupCommitter<AppendRequest, StoredEvent[]>((batch) => this.commitBatch(batch));
  private readonly uniqueKeys: UniqueKeyTable;
  private readonly damage: LogDamage;
  private readonly notifier: ChangeNotifier;
  /** `PRAGMA data_version` as last seen by the watch probe. */
  private seenVersion = 0;
  private readonly typedReads = new Map<number, Database.Statement>();
  private inlineApply: InlineApply | undefined;
  private closed = false;
  /** Keeps the WAL bounded while readers overlap (absent for in-memory databases). */
  checkpointer: WalCheckpointer | undefined;

  private constructor(readonly db: Database.Database, unique: UniqueSpec, private readonly busyTimeoutMs: number) {
    this.statements = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT append_request'),
      release: db.prepare('RELEASE append_request'),
      rollbackTo: db.prepare('ROLLBACK TO append_request'),
      streamHead: db.prepare('SELECT version, kind FROM events WHERE type = ? AND sid = ? ORDER BY version DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO events (id, type, sid, kind, version, ts, data, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      insertAt: db.prepare('INSERT INTO events (position, id, type, sid, kind, version, ts, data, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      sequence: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck(),
      keepKey: db.prepare('INSERT OR IGNORE INTO idempotency (key, first_position, last_position) VALUES (?, ?, ?)'),
      stream: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE type = ? AND sid = ? ORDER BY version`),
      range: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position BETWEEN ? AND ? ORDER BY position`),
      from: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`).raw(),
      encodedFrom: db.prepare(`SELECT ${ENCODED_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`).raw(),
      head: db.prepare('SELECT position FROM events ORDER BY position DESC LIMIT 1').pluck(),
      findKey: db.prepare('SELECT first_position, last_position FROM idempotency WHERE key = ?'),
      saveKey: db.prepare('INSERT INTO idempotency (key, first_position, last_position) VALUES (?, ?, ?)'),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
    };
    this.uniqueKeys = new UniqueKeyTable(db, unique);
    this.damage = new LogDamage(db, db.name);
    const probe = () => {
      const version = this.dataVersion();
      if (version === this.seenVersion) return false;
      this.seenVersion = version;
      return true;
    };
    this.notifier = new ChangeNotifier(probe, { files: walFiles(db.name) });
  }

  /** Open (creating if needed) the log in `file`; waits for other openers up to the open timeout. */
  static async open(file: string, options: SqliteLogOptions = {}): Promise<SqliteEventLog> {
    const busyTimeoutMs = options.busyTimeoutMs ?? 30_000;
    const db = await openSqlite(file, options.durability ?? 'full');
    try {
      if (options.secureDelete) db.pragma('secure_delete = ON');
      await retryOpening(file, () =>
        db.transaction(() => {
          db.exec(LOG_SCHEMA);
          allowErasedKind(db);
        }).immediate(),
      );
      const log = new SqliteEventLog(db, options.unique ?? {}, busyTimeoutMs);
      if (file !== ':memory:') log.checkpointer = new WalCheckpointer(file, options.walCheckpoint);
      await retryOpening(file, () => log.uniqueKeys.syncWithSpec());
      return log;
    } catch (error) {
      db.close();
      throw wrapSqliteError(error, `cannot open ${file}`);
    }
  }

  /**
   * Register the projection writer that runs inside each append transaction (and each import), after
   * the events are written and before the commit (in-append): if it throws, the append is rolled back
   * and rejected with its error, so the log and the projections never disagree.
   */
  applyInAppend(apply: InlineApply | undefined): void {
    this.inlineApply = apply;
  }

  append(events: readonly ProposedEvent[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    if (this.closed) return Promise.reject(new ClosedError());
    if (events.length === 0) return Promise.resolve([]);
    return this.committer.submit({ events, options });
  }

  /** Run `fn` in a `BEGIN IMMEDIATE` transaction, waiting asynchronously for the write lock. */
  async writeTransaction<T>(fn: () => T): Promise<T> {
    await this.begin();
    try {
      const result = fn();
      this.statements.commit.run();
      this.checkpointer?.afterCommit();
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.statements.rollback.run();
      throw error;
    }
  }

  private async begin(): Promise<void> {
    try {
      await retryWhileBusy(
        () => {
          if (this.db.inTransaction) throw new ConnectionBusy('connection is inside another transaction');
          this.statements.begin.run();
        },
        isLockBusy,
        this.busyTimeoutMs,
      );
    } catch (error) {
      throw wrapSqliteError(error, 'cannot start a write transaction');
    }
  }

  private async commitBatch(batch: AppendRequest[]): Promise<Outcome<StoredEvent[]>[]> {
    const s = this.statements;
    await this.checkpointer?.idle();
    await this.begin();
    let outcomes: Outcome<StoredEvent[]>[];
    try {
      this.damage.assertWritable();
      outcomes = batch.length === 1 ? [{ ok: true, value: this.appendOne(batch[0]) }] : this.appendEach(batch);
      s.commit.run();
      this.checkpointer?.afterCommit();
    } catch (error) {
      if (this.db.inTransaction) s.rollback.run();
      throw wrapSqliteError(error, 'append failed');
    }
    if (outcomes.some((o) => o.ok)) this.notifier.notify();
    return outcomes;
  }

  /**
   * Several requests in one transaction, each failing alone. Failures are rare, so the batch first runs
   * under a single savepoint; only when a request fails is it undone and run again with a savepoint per
   * request (each request is checked again, so the outcomes are the same either way).
   */
  private appendEach(batch: AppendRequest[]): Outcome<StoredEvent[]>[] {
    const s = this.statements;
    s.savepoint.run();
    try {
      const outcomes = batch.map((request) => ({ ok: true as const, value: this.appendOne(request) }));
      s.release.run();
      return outcomes;
    } catch {
      s.rollbackTo.run();
      s.release.run();
    }
    return batch.map((request): Outcome<StoredEvent[]> => {
      s.savepoint.run();
      try {
        const value = this.appendOne(request);
        s.release.run();
        return { ok: true, value };
      } catch (error) {
        s.rollbackTo.run();
        s.release.run();
        return { ok: false, error: wrapSqliteError(error, 'append failed') };
      }
    });
  }

  private appendOne({ events, options }: AppendRequest): StoredEvent[] {
    const s = this.statements;
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const earlier = s.findKey.get(key) as { first_position: number; last_position: number } | undefined;
      if (earlier) return (s.range.all(earlier.first_position, earlier.last_position) as EventRow[]).map(rowToEvent);
    }
    const now = Date.now();
    const ts = new Date(now).toISOString();
    const stored: StoredEvent[] = [];
    for (const event of events) {
      const after = applyAppendRules(event, this.readState(event.type, event.sid));
      this.uniqueKeys.apply(event);
      const data = JSON.stringify(event.data);
      const meta = event.meta ? JSON.stringify(event.meta) : null;
      const id = newEventId(now);
      const info = s.insert.run(id, event.type, event.sid, event.kind, after.version, now, data, meta);
      this.checkpointer?.wrote(data.length);
      stored.push({
        position: Number(info.lastInsertRowid),
        id,
        type: event.type,
        sid: event.sid,
        kind: event.kind,
        version: after.version,
        ts,
        data: event.data,
        ...(event.meta ? { meta: event.meta } : {}),
      });
    }
    if (key !== undefined) s.saveKey.run(key, stored[0].position, stored[stored.length - 1].position);
    this.inlineApply?.(stored);
    return stored.map((e) => structuredClone(e));
  }

  /** See `EventLog.importEvents`: events keep their positions, ids, versions and timestamps. */
  async importEvents(events: readonly StoredEvent[]): Promise<void> {
    this.assertOpen();
    if (events.length === 0) return;
    await this.committer.idle();
    const s = this.statements;
    try {
      await this.writeTransaction(() => {
        this.damage.assertWritable();
        const next = Math.max(this.headSync(), (s.sequence.get() as number | undefined) ?? 0) + 1;
        events.forEach((event, i) => {
          applyImportRules(event, i, next + i, this.readState(event.type, event.sid));
          this.uniqueKeys.apply(event);
          const meta = event.meta ? JSON.stringify(event.meta) : null;
          const data = JSON.stringify(event.data);
          s.insertAt.run(event.position, event.id, event.type, event.sid, event.kind, event.version, Date.parse(event.ts), data, meta);
          this.checkpointer?.wrote(data.length);
        });
        for (const [key, run] of idempotencyRuns(events)) s.keepKey.run(key, run[0].position, run[run.length - 1].position);
        this.inlineApply?.(events.map((e) => structuredClone(e)));
      });
    } catch (error) {
      throw wrapSqliteError(error, 'import failed');
    }
    this.notifier.notify();
  }

  private readState(type: string, sid: string): StreamState {
    const row = this.statements.streamHead.get(type, sid) as { version: number; kind: string } | undefined;
    return row ? streamStateOf(row) : { version: 0, exists: false };
  }

  async readStream(type: string, sid: string): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.noting(() => (this.statements.stream.all(type, sid) as EventRow[]).map(rowToEvent));
  }

  async streamState(type: string, sid: string): Promise<StreamState> {
    this.assertOpen();
    return this.readState(type, sid);
  }

  async readAll(from: number, options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    if (!Number.isInteger(from) || from < 0) throw new InvalidInputError(`from must be a position >= 0, got ${from}`);
    const limit = options.limit ?? -1;
    if (!options.types) return this.noting(() => decodeRawRows(this.statements.from.all(from, limit) as unknown[][]));
    if (options.types.length === 0) return [];
    const types = options.types;
    return this.noting(() => decodeRawRows(this.typedRead(types.length).all(from, ...types, limit) as unknown[][]));
  }

  /** Run a read; a stored row it cannot decode is recorded as damage before the error is thrown. */
  private noting<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      const damage = rowDamageOf(error);
      if (damage) this.damage.record(damage, 'a read');
      throw error;
    }
  }

  /** The events from `from` with data as the stored JSON text (rebuilds decode final states only). */
  async readAllEncoded(from: number, options: ReadAllOptions = {}): Promise<EncodedEvent[]> {
    this.assertOpen();
    if (!Number.isInteger(from) || from < 0) throw new InvalidInputError(`from must be a position >= 0, got ${from}`);
    const limit = options.limit ?? -1;
    if (options.types?.length === 0) return [];
    let stmt = this.statements.encodedFrom;
    if (options.types) {
      const marks = options.types.map(() => '?').join(', ');
      stmt = this.db.prepare(`SELECT ${ENCODED_COLUMNS} FROM events WHERE position >= ? AND type IN (${marks}) ORDER BY position LIMIT ?`).raw();
    }
    const events: EncodedEvent[] = [];
    for (const r of stmt.iterate(from, ...(options.types ?? []), limit) as Iterable<EncodedRow>) {
      events.push({ position: r[0], type: r[1], sid: r[2], kind: r[3], version: r[4], ts: r[5], data: r[6] });
    }
    return events;
  }

  /** The prepared raw-mode read of events of `count` types (cached: a typed feed runs it on every poll). */
  private typedRead(count: number): Database.Statement {
    let stmt = this.typedReads.get(count);
    if (!stmt) {
      const marks = Array.from({ length: count }, () => '?').join(', ');
      stmt = this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? AND type IN (${marks}) ORDER BY position LIMIT ?`).raw();
      if (this.typedReads.size < 16) this.typedReads.set(count, stmt);
    }
    return stmt;
  }

  /**
   * Signals this connection's commits at once, and other connections' (other stores in this process,
   * other processes) through `fs.watch` on the WAL and, as the fallback, by polling
   * `PRAGMA data_version`, which changes when another connection commits.
   */
  async watch(onChange: () => void, options: WatchOptions = {}): Promise<LogWatcher> {
    this.assertOpen();
    if (!this.notifier.watching) this.seenVersion = this.dataVersion();
    return this.notifier.watch(onChange, options);
  }

  private dataVersion(): number {
    try {
      return this.statements.dataVersion.get() as number;
    } catch (error) {
      throw wrapSqliteError(error, 'cannot watch the log');
    }
  }

  async head(): Promise<number> {
    this.assertOpen();
    return this.headSync();
  }

  /** The head position, read synchronously (used by projections in the same database). */
  headSync(): number {
    return (this.statements.head.get() as number | undefined) ?? 0;
  }

  /** See `checkIntegrity`; damage found is recorded (writes refused) and a clean report lifts it. */
  async verify(): Promise<IntegrityReport> {
    this.assertOpen();
    const report = checkIntegrity(this.db);
    if (report.problems.length > 0) this.damage.record(report.problems[0], 'verify');
    else this.damage.clear();
    return report;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.committer.idle();
    this.closed = true;
    this.notifier.close();
    await this.checkpointer?.close();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }
}

/** The database and its WAL, whose changes signal other connections' commits between polls. */
function walFiles(file: string): WatchedFiles | undefined {
  if (!file || file === ':memory:') return undefined;
  const base = path.basename(file);
  return { dir: path.dirname(path.resolve(file)), accept: (name) => name === `${base}-wal` || name === base };
}
