import type Database from 'better-sqlite3';
import { io } from '../../log/file-io';
import * as path from 'node:path';
import type { StoredEvent } from '../../log/event';
import { readFrame } from '../../log/otoml-record';
import type { Checkpoint, IndexedAppend, LogIndex } from './log-index';
import { segmentFileName, type SegmentFiles } from './segment-files';
import { corruptAt, scanSegment, type ScanEnd } from './segment-scan';

/** Index records in transactions of about this many events. */
const APPLY_BATCH = 5000;

type State = NonNullable<ReturnType<LogIndex['state']>>;

/**
 * Keeps the sidecar index level with the end of the log: reads the complete appends written after the
 * index checkpoint (by this process or any other), follows segment rollovers, and, for the writer only,
 * repairs a torn tail of the newest segment. Safe with several processes: each batch of index rows is
 * committed only if the checkpoint is still the one the batch was read from.
 */
export class LogTail {
  private cached: State | undefined;
  /** Called inside each transaction that indexes the writer's own appends (see FileEventLog.applyAfterIndexing). */
  onIndexed: ((events: StoredEvent[]) => void) | undefined;

  constructor(
    private readonly files: SegmentFiles,
    private readonly db: Database.Database,
    private readonly index: LogIndex,
    private readonly storeId: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** The checkpoint of the index, read from the sidecar (other processes move it too). */
  state(): State {
    const state = this.index.state();
    if (!state) throw new Error('the log index has no checkpoint');
    this.cached = state;
    return state;
  }

  /** The checkpoint as this process last saw or wrote it, without looking at the log (undefined if unsure). */
  known(): State | undefined {
    return this.cached;
  }

  /** Drop the remembered checkpoint: the next `sync` looks at the sidecar and the log again. */
  forget(): void {
    this.cached = undefined;
  }

  /**
   * Index every complete append now in the log, and return the checkpoint. A reader stops at an
   * incomplete tail (not yet written); the writer (`asWriter`, holding the lock) moves a torn tail of the
   * newest segment aside and cuts it. Damage anywhere else is CORRUPT, naming segment and offset.
   * When the log has not grown since the last look, this costs two stats.
   */
  sync(asWriter: boolean): State {
    try {
      return this.syncOnce(asWriter);
    } catch (error) {
      // Part of the log may be indexed and the rest not: the checkpoint seen last is not the end of the log.
      this.cached = undefined;
      throw error;
    }
  }

  private syncOnce(asWriter: boolean): State {
    for (;;) {
      const known = this.cached ?? this.state();
      const size = this.files.size(known.segment);
      if (size === known.endOffset) {
        const next = known.position + 1;
        if (next === known.segment || !this.files.exists(next)) return known;
        const header = this.files.header(next);
        if (header.header.storeId !== this.storeId) {
          throw corruptAt(next, 0, `the segment belongs to store ${header.header.storeId}, not ${this.storeId}`);
        }
        this.moveTo(known, { ...known, segment: next, endOffset: header.length });
        continue;
      }
      const state = this.state();
      if (!sameCheckpoint(state, known)) continue;
      if (size < state.endOffset) {
        throw corruptAt(state.segment, size, `the segment ends before offset ${state.endOffset}, which the log index has seen (was it truncated?)`);
      }
      const end = this.catchUpSegment(state);
      if (end === 'restart') {
        this.cached = undefined;
        continue;
      }
      if (end.status === 'corrupt') throw corruptAt(state.segment, end.badOffset ?? end.offset, end.reason ?? 'damaged frame');
      if (end.status === 'incomplete') {
        if (this.files.exists(end.position + 1) && end.position + 1 !== state.segment) {
          throw corruptAt(state.segment, end.badOffset ?? end.offset, `${end.reason}, in a segment that is not the newest`);
        }
        if (!asWriter) return this.cached ?? this.state();
        this.repair(state.segment, end.offset, end.size);
      }
    }
  }

  /** Whether the index checkpoint matches the log: its last frame is where it says, with the same CRC. */
  matches(state: Checkpoint, segments: readonly number[]): boolean {
    if (!segments.includes(state.segment)) return false;
    if (this.files.size(state.segment) < state.endOffset) return false;
    if (state.lastOffset < 0) return state.position === 0;
    if (!segments.includes(state.lastSegment)) return false;
    const buf = this.files.read(state.lastSegment, state.lastOffset, 16 * 1024);
    const read = readFrame(buf, 0, buf.length);
    if (read.ok) return read.frame.position === state.position && read.frame.crc === state.lastCrc;
    return !!read.frameLine && read.incomplete && read.frameLine.position === state.position && read.frameLine.crc === state.lastCrc;
  }

  /** Move the checkpoint if nobody else has (used for rollovers). */
  moveTo(from: State, to: Checkpoint): boolean {
    const nested = this.db.inTransaction;
    const moved = this.db
      .transaction(() => {
        const now = this.state();
        if (!sameCheckpoint(now, from)) return undefined;
        this.index.saveState(this.storeId, to, now.uniqueSpec);
        return { ...now, ...to };
      })
      .immediate();
    this.remember(moved, nested);
    return moved !== undefined;
  }

  /**
   * Remember a checkpoint only once its transaction committed: a failed commit (a full disk rolls the
   * transaction back) must not leave this process believing the index holds what it does not.
   */
  private remember(state: State | undefined, nested: boolean): void {
    // Inside someone else's transaction the rows may still be rolled back: do not cache the result.
    this.cached = state === undefined || nested ? undefined : state;
  }

  private catchUpSegment(start: State): ScanEnd | 'restart' {
    let base: Checkpoint = start;
    let cursor: Checkpoint = start;
    let appends: IndexedAppend[] = [];
    let count = 0;
    let lost = false;
    const flush = (): boolean => {
      if (appends.length === 0) return true;
      const ok = this.apply(base, appends, cursor);
      appends = [];
      count = 0;
      base = cursor;
      if (!ok) lost = true;
      return ok;
    };
    const end = scanSegment(this.files, start.segment, start.endOffset, start.position, (records) => {
      appends.push({ segment: start.segment, records });
      count += records.length;
      const last = records[records.length - 1];
      cursor = { position: last.event.position, segment: start.segment, endOffset: last.end, lastSegment: start.segment, lastOffset: last.offset, lastCrc: last.crc };
      return count < APPLY_BATCH || flush();
    });
    if (!lost) flush();
    return lost ? 'restart' : end;
  }

  /**
   * Index appends that follow checkpoint `from`, ending at `to`, unless another process moved the
   * checkpoint first (then false: it indexed them, or will). `ownAppends`: they are this writer's own,
   * so the `onIndexed` hook runs in the same transaction; appends read back from the log never run it
   * (reading the log never writes projections).
   */
  apply(from: Checkpoint, appends: readonly IndexedAppend[], to: Checkpoint, ownAppends = false): boolean {
    const nested = this.db.inTransaction;
    const applied = this.db
      .transaction(() => {
        const now = this.state();
        if (!sameCheckpoint(now, from)) return undefined;
        this.index.apply(appends);
        this.index.saveState(this.storeId, to, now.uniqueSpec);
        if (ownAppends && this.onIndexed) this.applyInline(appends);
        return { ...now, ...to };
      })
      .immediate();
    this.remember(applied, nested);
    return applied !== undefined;
  }

  /** Run the inline hook in a savepoint: if it fails, the index still advances and the hook's owner catches up later. */
  private applyInline(appends: readonly IndexedAppend[]): void {
    const events = appends.flatMap((a) => a.records.map((r) => r.event));
    try {
      this.db.transaction(() => this.onIndexed!(events))();
    } catch (error) {
      // SQLite rolls the whole transaction back on some errors (a full disk): then the index rows are gone too.
      if (!this.db.inTransaction) throw error;
      // Otherwise projections stay behind the index; reads compare checkpoints and catch up through the engine.
    }
  }

  /** Copy the damaged tail to `SEGMENT.otoml.OFFSET.broken`, then cut the segment at `offset`. Writer only. */
  private repair(segment: number, offset: number, size: number): void {
    const file = this.files.path(segment);
    const damaged = this.files.read(segment, offset, size - offset);
    let broken = `${file}.${offset}.broken`;
    for (let n = 1; io.existsSync(broken); n++) broken = `${file}.${offset}.${n}.broken`;
    const out = io.openSync(broken, 'wx');
    try {
      io.writeSync(out, damaged, 0, damaged.length, 0);
      io.fsyncSync(out);
    } finally {
      io.closeSync(out);
    }
    const fd = io.openSync(file, 'r+');
    try {
      io.ftruncateSync(fd, offset);
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
    this.files.syncDir();
    this.warn(
      `repaired a torn tail: ${segmentFileName(segment)} offset ${offset}: ${damaged.length} bytes that never formed a complete append were moved to ${path.basename(broken)}`,
    );
  }
}

export function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return a.position === b.position && a.segment === b.segment && a.endOffset === b.endOffset;
}
