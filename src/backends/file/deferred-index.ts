import type { StoredEvent } from '../../log/event';
import type { UniqueSpec } from '../../log/event-log';
import type { EncodedFrame } from '../../log/otoml-record';
import { Staging, type CommittedView } from './append-staging';
import type { Checkpoint, IndexedAppend } from './log-index';
import type { ScannedRecord } from './segment-scan';

/** The index checkpoint an append continues from, with what the sidecar stores beside it. */
export type WriterState = Checkpoint & { storeId: string; uniqueSpec: string };

/** Index a writer's own appends at most this long after they are written (default). */
export const DEFAULT_INDEX_DELAY_MS = 10;
/** Index them at once when this many are waiting. */
const FLUSH_AT_EVENTS = 4096;

/**
 * The writer's own appends that are in the log but not yet in the sidecar index (and projections).
 * Indexing each append in its own sidecar transaction, beside the log's fdatasync, about halves the
 * append rate on one disk, so the writer indexes its appends in batches: after a delay (10 ms by default), at
 * FLUSH_AT_EVENTS, and before anything in this process reads the index. Meanwhile `staging()` answers
 * stream versions and unique claims with the waiting appends layered over the index.
 *
 * Nothing here is needed for durability: the log is the truth, and a process that stops before a flush
 * leaves an index that the next reader or writer brings level by reading the log.
 */
export class DeferredIndex {
  private waiting: { from: WriterState; to: WriterState; appends: IndexedAppend[]; events: number; overlay: Staging } | undefined;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param flushTo index `appends` that follow checkpoint `from` and end at `to` (LogTail.apply's contract)
   * @param delayMs the longest an append waits to be indexed when nothing reads
   */
  constructor(
    private readonly base: CommittedView,
    private readonly unique: UniqueSpec,
    private readonly flushTo: (from: WriterState, appends: IndexedAppend[], to: WriterState) => void,
    private readonly delayMs = DEFAULT_INDEX_DELAY_MS,
  ) {}

  /** The end of the log as this writer wrote it, when appends are waiting. */
  get end(): WriterState | undefined {
    return this.waiting?.to;
  }

  /** A staging layer over the index and the waiting appends, for one batch. */
  staging(): Staging {
    return this.waiting ? this.waiting.overlay.child() : new Staging(this.base, this.unique);
  }

  /**
   * Record an append just written at `from.endOffset` of segment `from.segment`, staged in `layer`
   * (from `staging()`). Returns the checkpoint after it.
   */
  add(from: WriterState, layer: Staging, events: readonly StoredEvent[], frames: readonly (EncodedFrame & { idempotencyKey?: string })[]): WriterState {
    let offset = from.endOffset;
    const records: ScannedRecord[] = frames.map((f, i) => {
      const record = { event: events[i], offset, end: offset + f.bytes.length, crc: f.crc, idempotencyKey: f.idempotencyKey };
      offset = record.end;
      return record;
    });
    const last = records[records.length - 1];
    const to: WriterState = { ...from, position: last.event.position, endOffset: last.end, lastSegment: from.segment, lastOffset: last.offset, lastCrc: last.crc };
    if (!this.waiting) this.waiting = { from, to, appends: [], events: 0, overlay: new Staging(this.base, this.unique) };
    layer.commitInto(this.waiting.overlay);
    this.waiting.appends.push({ segment: from.segment, records });
    this.waiting.events += records.length;
    this.waiting.to = to;
    if (this.waiting.events >= FLUSH_AT_EVENTS) this.tryFlush();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.tryFlush();
      }, this.delayMs);
      this.timer.unref();
    }
    return to;
  }

  /**
   * Index the waiting appends now (a no-op when none wait). When indexing fails (a full disk), they stay
   * waiting, so `end` still says where the log ends, and the error is thrown.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    try {
      this.flushTo(waiting.from, waiting.appends, waiting.to);
    } catch (error) {
      this.waiting = waiting;
      throw error;
    }
  }

  /** `flush`, where nobody can take its error: the appends stay waiting for the next flush. */
  private tryFlush(): void {
    try {
      this.flush();
    } catch {
      // The next read or append flushes again, and reports what still fails.
    }
  }

  /** Forget the waiting appends without indexing them (the index then catches up from the log). */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting = undefined;
  }
}
