import { CorruptError, InvalidInputError } from '../../log/errors';
import type { StoredEvent } from '../../log/event';
import type { ReadAllOptions } from '../../log/event-log';
import { decodeFrame, type Frame } from '../../log/otoml-record';
import type { FrameLocation, LogIndex } from './log-index';
import type { SegmentFiles } from './segment-files';
import { readEventAt, readEvents, type FrameDecoder } from './segment-scan';

/** Decode a frame into its stored event. */
export function decodeEvent(buf: Buffer, frame: Frame): StoredEvent {
  return decodeFrame(buf, frame).event;
}

/**
 * Reads events of the file log through the sidecar index: ranges sequentially across segments, single
 * events by their frame location. Every frame is checked; `decode` chooses full events or bulk reads.
 * The caller brings the index up to date first.
 */
export class LogReader {
  constructor(
    private readonly dir: string,
    private readonly files: SegmentFiles,
    private readonly index: LogIndex,
  ) {}

  /** `EventLog.readAll` semantics over a log whose indexed head is `head`. */
  readFrom<R>(from: number, head: number, options: ReadAllOptions, decode: FrameDecoder<R>): R[] {
    if (!Number.isInteger(from) || from < 0) throw new InvalidInputError(`from must be a position >= 0, got ${from}`);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const start = Math.max(from, 1);
    if (start > head || limit <= 0) return [];
    if (options.types) {
      if (options.types.length === 0) return [];
      const max = Number.isFinite(limit) ? limit : -1;
      return this.index.typedLocations(start, options.types, max).map((loc) => this.readAt(loc, decode));
    }
    const last = Math.min(head, Number.isFinite(limit) ? start + limit - 1 : head);
    return this.readRange(start, last, decode);
  }

  /** Events `first..last` (all indexed), read sequentially across segments. */
  readRange<R>(first: number, last: number, decode: FrameDecoder<R>): R[] {
    const out: R[] = [];
    let loc = this.index.locate(first);
    if (!loc) throw new CorruptError(`the log index lacks position ${first}; delete ${this.dir}/projections.db to rebuild it`);
    let position = first;
    for (;;) {
      const end = readEvents(this.files, loc.segment, loc.offset, position, last, decode, (record) => {
        out.push(record);
      });
      position = end.position + 1;
      if (position > last) return out;
      if (!this.files.exists(position)) {
        throw new CorruptError(`${this.files.path(loc.segment)}: the log index reaches position ${last} but the segments end at ${end.position}`);
      }
      loc = { position, segment: position, offset: this.files.header(position).length };
    }
  }

  /** The event at one frame location. */
  readAt<R>(loc: FrameLocation, decode: FrameDecoder<R>): R {
    return readEventAt(this.files, loc.segment, loc.offset, loc.position, decode);
  }
}
