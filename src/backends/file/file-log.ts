import type Database from 'better-sqlite3';
import { io } from '../../log/file-io';
import { retryOpening } from '../../log/busy-retry';
import { ClosedError, CorruptError, InvalidInputError, OsisError } from '../../log/errors';
import type { EncodedEvent, ProposedEvent, StoredEvent, StreamState } from '../../log/event';
import type { AppendOptions, Durability, EventLog, IntegrityReport, LogWatcher, ReadAllOptions, UniqueSpec, WatchOptions } from '../../log/event-log';
import { GroupCommitter, type Outcome } from '../../log/group-commit';
import { newEventId } from '../../log/ids';
import { decodeDataTable, decodeFrameEncoded } from '../../log/otoml-encoded';
import { encodeSegmentHeader, SEGMENT_FORMAT } from '../../log/otoml-record';
import { stageRequest, type AppendRequest, type StagedRequest } from './append-batch';
import type { Staging } from './append-staging';
import { clearDamage, damageError, damageOf, readDamage, recordDamage } from './damage-record';
import { DEFAULT_INDEX_DELAY_MS, DeferredIndex, type WriterState } from './deferred-index';
import { LogIndex, type Checkpoint, type IndexedAppend } from './log-index';
import { decodeEvent, LogReader } from './log-reader';
import { LogTail } from './log-tail';
import { fdatasync, uniqueFingerprint, writeAll } from './write-helpers';
import { LogDirWatch } from './log-watch';
import { detectNetworkFs, networkFsWarning } from './network-fs';
import { fsError, SegmentFiles } from './segment-files';
import { openSidecar, useSteadyBusyTimeout, wrapSidecarError } from './sidecar';
import { verifyLogDir } from './verify-log';
import { WriterLock, type WriterLockOptions } from './writer-lock';

/** Options of the file log. */
export interface FileLogOptions {
  /** `'full'` (default): fdatasync before acknowledging. `'normal'`: survives a process crash. */
  durability?: Durability;
  unique?: UniqueSpec;
  /** Start a new segment once the current one would pass this size (default 64 MiB). */
  segmentBytes?: number;
  lock?: WriterLockOptions;
  /** Where warnings go (network filesystem, repaired tail). Default: stderr. */
  onWarning?: (message: string) => void;
  busyTimeoutMs?: number;
  /** Longest time the writer keeps its own appends out of the sidecar index when nothing reads (default 10 ms). */
  indexDelayMs?: number;
  /**
   * Zero deleted content in the sidecar (`PRAGMA secure_delete`) from the moment it opens, before the
   * index catches up: stores with personal fields, whose unique claims and projections hold plaintext.
   */
  secureDelete?: boolean;
}

/** Default segment size before rollover. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/**
 * `file:DIR`: the log as a directory of human-readable OTOML segments (see otoml-record.ts), with a
 * rebuildable index in the sidecar database `DIR/projections.db`.
 *
 * - One writer at a time holds `DIR/writer.lock` (proper-lockfile); on taking it, the writer first indexes
 *   whatever others appended. It writes at its own offset (no O_APPEND), then fdatasyncs (durability
 *   'full') before acknowledging. Concurrent appends share one write and one fdatasync (group commit);
 *   each stays atomic on its own, and a failing one writes no frame.
 * - Readers (and opening, which is reading) never lock and never repair: an incomplete tail reads as
 *   not yet written.
 * - Only the writer repairs, and only the newest segment's torn tail, after copying it to `*.broken`.
 *   Damage anywhere else is CORRUPT with the segment and offset; an open that meets it while indexing
 *   the log fails with it, and so does every read of a damaged frame: nothing is ever skipped.
 * - Stream versions, unique keys and idempotency keys are checked against the sidecar index, brought up to
 *   the end of the log under the lock before each append, so they hold across processes. Opening reads
 *   only what the index has not seen; deleting the sidecar makes the next open rebuild it from the log.
 */
export class FileEventLog implements EventLog {
  readonly backend = 'file';
  private readonly committer = new GroupCommitter<AppendRequest, StoredEvent[]>((batch) => this.commitBatch(batch));
  private writer: { segment: number; fd: number } | undefined;
  private failed: Error | undefined;
  private readonly changes: LogDirWatch;
  private readonly deferred: DeferredIndex;
  private readonly reader: LogReader;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly db: Database.Database,
    private readonly files: SegmentFiles,
    private readonly index: LogIndex,
    private readonly tail: LogTail,
    private readonly lock: WriterLock,
    private readonly storeId: string,
    private readonly unique: UniqueSpec,
    private readonly durability: Durability,
    private readonly segmentBytes: number,
    /** True when open found the sidecar index missing or inconsistent and re-derived it from the log. */
    readonly sidecarRebuilt: boolean,
    indexDelayMs: number,
  ) {
    this.changes = new LogDirWatch(files);
    this.reader = new LogReader(dir, files, index);
    this.deferred = new DeferredIndex(index, unique, (from, appends, to) => this.indexAppends(from, appends, to), indexDelayMs);
  }

  /** Open (creating if needed) the log in `dir`. */
  static async open(dir: string, options: FileLogOptions = {}): Promise<FileEventLog> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isInteger(segmentBytes) || segmentBytes < 4096) throw new InvalidInputError('segmentBytes must be an integer >= 4096');
    const warn = options.onWarning ?? ((message: string) => process.stderr.write(`osis: warning: ${message}\n`));
    try {
      io.mkdirSync(dir);
    } catch (error) {
      if (error instanceof OsisError) throw error;
      throw fsError(error, `cannot create the log directory ${dir}`);
    }
    const network = detectNetworkFs(dir);
    if (network) warn(networkFsWarning(dir, network));
    const files = new SegmentFiles(dir);
    const lock = new WriterLock(dir, options.lock);
    let segments = files.list();
    if (segments.length === 0) {
      await lock.acquire();
      try {
        segments = files.list();
        if (segments.length === 0) {
          files.create(1, encodeSegmentHeader({ format: SEGMENT_FORMAT, storeId: newEventId(), first: 1 }));
          segments = [1];
        }
      } finally {
        lock.done();
      }
    }
    if (segments[0] !== 1) throw new CorruptError(`${dir}: the first segment starts at position ${segments[0]}: segments before it are missing`);
    const storeId = files.header(1).header.storeId;
    for (const first of segments) {
      const found = files.header(first).header.storeId;
      if (found !== storeId) throw new CorruptError(`${files.path(first)}: offset 0: segment of store ${found} in the log of store ${storeId}`);
    }
    const delay = options.indexDelayMs ?? DEFAULT_INDEX_DELAY_MS;
    if (!Number.isInteger(delay) || delay < 0) throw new InvalidInputError('indexDelayMs must be an integer >= 0');
    const db = await openSidecar(dir);
    if (options.secureDelete) db.pragma('secure_delete = ON');
    try {
      const unique = options.unique ?? {};
      const index = await retryOpening(dir, () => new LogIndex(db, unique));
      const tail = new LogTail(files, db, index, storeId, warn);
      const rebuilt = await retryOpening(dir, () => FileEventLog.checkSidecar(db, index, tail, files, storeId, segments));
      const log = new FileEventLog(dir, db, files, index, tail, lock, storeId, unique, options.durability ?? 'full', segmentBytes, rebuilt, delay);
      // Opening reads like any reader: no lock, no repair. A torn tail a crashed writer left reads as
      // not yet written until the next append, whose writer repairs it under the lock.
      await retryOpening(dir, () => tail.sync(false));
      await retryOpening(dir, () => log.syncUniqueSpec());
      useSteadyBusyTimeout(db, options.busyTimeoutMs);
      return log;
    } catch (error) {
      const damage = damageOf(error);
      if (damage) recordDamage(dir, damage, 'opening');
      lock.drop();
      db.close();
      files.closeAll();
      throw wrapSidecarError(error, `cannot open the log in ${dir}`);
    }
  }

  /** Reset the index when it is absent, of another store, or ahead of / different from the log. */
  private static checkSidecar(db: Database.Database, index: LogIndex, tail: LogTail, files: SegmentFiles, storeId: string, segments: number[]): boolean {
    const state = index.state();
    if (state && state.storeId === storeId && tail.matches(state, segments)) return false;
    const start: Checkpoint = { position: 0, segment: 1, endOffset: files.header(1).length, lastSegment: 1, lastOffset: -1, lastCrc: 0 };
    db.transaction(() => {
      index.clear();
      index.saveState(storeId, start, '');
    }).immediate();
    return true;
  }

  /** When the declared unique fields changed since the index was built, re-derive the claims. */
  private syncUniqueSpec(): void {
    const wanted = uniqueFingerprint(this.unique);
    if (this.tail.state().uniqueSpec === wanted) return;
    this.db
      .transaction(() => {
        const state = this.tail.state();
        const types = Object.keys(this.unique).filter((t) => this.unique[t].length > 0);
        this.index.rebuildClaims(this.index.latestLive(types).map((loc) => this.reader.readAt(loc, decodeEvent)));
        this.index.saveState(this.storeId, state, wanted);
      })
      .immediate();
  }

  /**
   * Register the projection writer that runs inside the sidecar transaction indexing this process's own
   * appends, after they are durable in the segments (after-append): if it throws, the append stays
   * acknowledged, the index still advances, and the projections are left behind for their owner to
   * catch up from the log. Appends this process reads back from the log (another writer's, or its own
   * indexed by another reader first) never run it: reads do not write projections.
   */
  applyAfterIndexing(apply: ((events: StoredEvent[]) => void) | undefined): void {
    this.tail.onIndexed = apply;
  }

  append(events: readonly ProposedEvent[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    if (this.closed) return Promise.reject(new ClosedError());
    if (events.length === 0) return Promise.resolve([]);
    return this.committer.submit({ kind: 'append', events, options });
  }

  /**
   * Append events that already carry positions, ids, versions and timestamps (copying a log): they must
   * continue this log exactly (first position = head + 1) and obey the append rules. All or nothing.
   */
  async importEvents(events: readonly StoredEvent[]): Promise<void> {
    if (this.closed) throw new ClosedError();
    if (events.length === 0) return;
    await this.committer.submit({ kind: 'import', events });
  }

  private async commitBatch(batch: AppendRequest[]): Promise<Outcome<StoredEvent[]>[]> {
    if (this.failed) throw this.failed;
    const damage = readDamage(this.dir);
    if (damage) throw damageError(this.dir, damage);
    if (!this.lock.held) this.refresh();
    const { fresh } = await this.lock.acquire();
    try {
      // Idempotency keys and imports are checked against the index itself: it must hold every append.
      if (fresh || batch.some((r) => r.kind === 'import' || r.options.idempotencyKey !== undefined)) this.deferred.flush();
      // A lease held without a break since the last commit means nobody else wrote: the known end holds.
      const state = (!fresh && (this.deferred.end ?? this.tail.known())) || this.noting('a write', () => this.tail.sync(true));
      if (fresh) this.checkNoLaterSegment(state);
      const staging = this.deferred.staging();
      const replays = new Map<string, StoredEvent[]>();
      const staged: StagedRequest[] = [];
      let next = state.position + 1;
      const stageAll = () =>
        batch.map((request): Outcome<StoredEvent[]> => {
          try {
            const result = stageRequest(request, staging, next, replays, (first, last) => this.reader.readRange(first, last, decodeEvent));
            if (result.frames.length > 0) {
              staged.push(result);
              next += result.frames.length;
            }
            return { ok: true, value: result.events };
          } catch (error) {
            return { ok: false, error };
          }
        });
      // One read transaction for the whole batch's index lookups, instead of one per lookup.
      const outcomes = this.db.transaction(stageAll).deferred();
      if (staged.length > 0) {
        await this.write(state, staged, staging);
        this.changes.notify();
      }
      return outcomes;
    } catch (error) {
      throw wrapSidecarError(error, `cannot append to the log in ${this.dir}`);
    } finally {
      this.lock.done();
    }
  }

  /** Write the staged frames at the writer's offset, sync them, and hand them to the deferred index. */
  private async write(state: WriterState, staged: StagedRequest[], staging: Staging): Promise<void> {
    const frames = staged.flatMap((s) => s.frames);
    const bytes = frames.reduce((n, f) => n + f.bytes.length, 0);
    let from = state;
    if (state.endOffset > this.files.header(state.segment).length && state.endOffset + bytes > this.segmentBytes) {
      this.deferred.flush();
      from = this.rollover(this.tail.known() ?? this.tail.sync(true));
    }
    const fd = this.writerFd(from.segment);
    const buffer = Buffer.concat(frames.map((f) => f.bytes), bytes);
    try {
      writeAll(fd, buffer, from.endOffset);
    } catch (error) {
      this.undo(fd, from.endOffset, error);
      throw fsError(error, `cannot append to ${this.files.path(from.segment)}`);
    }
    // The sync runs on the thread pool; the append is acknowledged once it is done. The index and the
    // projections take it in a later batch (see DeferredIndex). (Other processes can read frames before
    // they are synced, as with any file: readers see what is written, acknowledged or not.)
    const synced = this.durability === 'full' ? fdatasync(fd) : undefined;
    synced?.catch(() => undefined);
    this.deferred.add(from, staging, staged.flatMap((s) => s.events), frames);
    if (synced) {
      try {
        await synced;
      } catch (error) {
        this.failed = new Error(`fdatasync of ${this.files.path(from.segment)} failed: what the disk holds is unknown; reopen the store`, { cause: error });
        throw fsError(error, `cannot sync ${this.files.path(from.segment)}`);
      }
    }
  }

  /** Index the writer's own appends (and the inline projections); on failure they stay waiting (DeferredIndex.flush). */
  private indexAppends(from: WriterState, appends: IndexedAppend[], to: WriterState): void {
    if (!this.tail.apply(from, appends, to, true)) this.tail.sync(false);
  }

  /** Start a new segment named by the next position (temp + fsync + rename + fsync dir). */
  private rollover(state: WriterState): WriterState {
    const first = state.position + 1;
    this.files.create(first, encodeSegmentHeader({ format: SEGMENT_FORMAT, storeId: this.storeId, first }));
    const to = { ...state, segment: first, endOffset: this.files.header(first).length };
    if (!this.tail.moveTo(state, to)) throw new CorruptError('the log index moved while this writer held the lock');
    return to;
  }

  /** A write failed part way: cut what may have been written; if even that fails, refuse further writes. */
  private undo(fd: number, offset: number, cause: unknown): void {
    try {
      io.ftruncateSync(fd, offset);
      io.fsyncSync(fd);
    } catch {
      this.failed = new Error(`the log could not be restored after a failed write; reopen the store (${(cause as Error)?.message})`, { cause });
    }
  }

  private writerFd(segment: number): number {
    if (this.writer?.segment !== segment) {
      if (this.writer) io.closeSync(this.writer.fd);
      this.writer = { segment, fd: io.openSync(this.files.path(segment), 'r+') };
    }
    return this.writer.fd;
  }

  /** After taking the lock: no segment may lie beyond the one the log continues in. */
  private checkNoLaterSegment(state: Checkpoint): void {
    const segments = this.files.list();
    const newest = segments[segments.length - 1];
    if (newest > state.segment) {
      throw new CorruptError(
        `${this.files.path(newest)}: offset 0: the log ends at position ${state.position} in an earlier segment, so this one follows a gap`,
        { details: { segment: newest, offset: 0 } },
      );
    }
  }

  async readStream(type: string, sid: string): Promise<StoredEvent[]> {
    this.refresh();
    return this.noting('a read', () => this.index.streamLocations(type, sid).map((loc) => this.reader.readAt(loc, decodeEvent)));
  }

  async streamState(type: string, sid: string): Promise<StreamState> {
    this.refresh();
    return this.index.streamState(type, sid);
  }

  async readAll(from: number, options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const head = this.refresh().position;
    return this.noting('a read', () => this.reader.readFrom(from, head, options, decodeEvent));
  }

  /** See `EventLog.readAllEncoded`: data stays the record's `[data]` table text (`decodeEncodedData`). */
  async readAllEncoded(from: number, options: ReadAllOptions = {}): Promise<EncodedEvent[]> {
    const head = this.refresh().position;
    return this.noting('a read', () => this.reader.readFrom(from, head, options, decodeFrameEncoded));
  }

  decodeEncodedData(data: string): Record<string, unknown> {
    return decodeDataTable(data);
  }

  async head(): Promise<number> {
    return this.refresh().position;
  }

  /** See `EventLog.watch`: own appends at once, other processes' through fs.watch and a size poll. */
  async watch(onChange: () => void, options: WatchOptions = {}): Promise<LogWatcher> {
    if (this.closed) throw new ClosedError();
    return this.changes.watch(onChange, options);
  }

  /** Check every frame of every segment (see `verifyLogDir`); changes nothing. */
  async verify(onProgress?: (done: number, total: number) => void): Promise<IntegrityReport> {
    if (this.closed) throw new ClosedError();
    const report = verifyLogDir(this.dir, onProgress);
    if (report.problems.length > 0) recordDamage(this.dir, report.problems[0], 'verify');
    else clearDamage(this.dir);
    return { events: report.events, problems: report.problems };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.committer.idle();
    this.deferred.flush();
    this.closed = true;
    this.changes.close();
    this.lock.drop();
    if (this.writer) io.closeSync(this.writer.fd);
    this.writer = undefined;
    this.files.closeAll();
    this.db.close();
  }

  /** Bring the index up to this writer's waiting appends and to what others appended. */
  private refresh(): Checkpoint {
    if (this.closed) throw new ClosedError();
    try {
      this.deferred.flush();
      return this.noting('a catch-up', () => this.tail.sync(false));
    } catch (error) {
      throw wrapSidecarError(error, `cannot bring the index of ${this.dir} up to date`);
    }
  }

  /** Run `fn`; damage to the log's frames that it meets is recorded (see damage-record.ts) before it is thrown. */
  private noting<T>(foundBy: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      const damage = damageOf(error);
      if (damage) recordDamage(this.dir, damage, foundBy);
      throw error;
    }
  }

}
