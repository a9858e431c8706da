import { CorruptError } from '../../log/errors';
import {
  crcMatchesToEnd,
  decodeFrame,
  findValidFrameAfter,
  readFrame,
  type DecodedRecord,
  type Frame,
} from '../../log/otoml-record';
import { segmentFileName, type SegmentFiles } from './segment-files';

/** Decodes a checked frame (`decodeFrame`, or `decodeFrameEncoded` for bulk reads). */
export type FrameDecoder<R> = (buf: Buffer, frame: Frame) => R;

/** One event of a scanned append, with where its frame lies. */
export interface ScannedRecord extends DecodedRecord {
  /** Offset of the frame line, and just past the payload. */
  offset: number;
  end: number;
  crc: number;
}

/** Where a scan of one segment stopped. */
export interface ScanEnd {
  /** Offset just past the last complete append. */
  offset: number;
  /** Position of the last event of that append (the start position - 1 when none was found). */
  position: number;
  /**
   * - `end`: the segment ends exactly after a complete append;
   * - `stopped`: the visitor asked to stop;
   * - `incomplete`: bytes follow that do not (yet) form a complete append, and nothing valid comes after
   *   them: a tail still being written, or a torn one;
   * - `corrupt`: damaged bytes at `badOffset` with valid frames after them, a frame out of sequence, or a
   *   damaged frame length. Never skipped.
   */
  status: 'end' | 'stopped' | 'incomplete' | 'corrupt';
  badOffset?: number;
  reason?: string;
  /** File size when the scan started. */
  size: number;
}

/** Called with each complete append in order; return false to stop after it. */
export type AppendVisitor = (records: ScannedRecord[]) => boolean | void;

const CHUNK = 1024 * 1024;

/**
 * Scan complete appends of segment `first` from `offset` (a frame boundary) to the end of the file as
 * it is now, checking every frame's CRC, the position sequence (from `position + 1`), the part numbering
 * of each append and the payload. Does not throw for damage: it reports it in the result.
 */
export function scanSegment(files: SegmentFiles, first: number, offset: number, position: number, visit: AppendVisitor): ScanEnd {
  const size = files.size(first);
  let chunkStart = offset;
  let buf: Buffer = Buffer.alloc(0);
  let at = offset;
  let pending: ScannedRecord[] = [];
  let parts = 0;
  let appendStart = offset;
  let last = position;
  let expected = position + 1;
  const stopAt = (status: ScanEnd['status'], extra: Partial<ScanEnd> = {}): ScanEnd => ({ offset: appendStart, position: last, status, size, ...extra });

  while (at < size) {
    if (at - chunkStart >= buf.length || buf.length === 0) {
      chunkStart = at;
      buf = files.read(first, at, Math.min(CHUNK, size - at));
    }
    const local = at - chunkStart;
    const read = readFrame(buf, local, buf.length);
    if (!read.ok) {
      const chunkEnd = chunkStart + buf.length;
      if (read.incomplete && chunkEnd < size) {
        const need = read.frameLine ? read.frameLine.payloadStart - local + read.frameLine.len : 2 * (chunkEnd - at) + 256;
        chunkStart = at;
        buf = files.read(first, at, Math.min(Math.max(CHUNK, need), size - at));
        continue;
      }
      return classifyDamage(files, first, at, size, read.reason, stopAt);
    }
    const frame = read.frame;
    const inAppend = pending.length > 0;
    const sequenceOk =
      frame.position === expected &&
      (inAppend ? frame.part === pending.length + 1 && frame.parts === parts : frame.part === 1);
    if (!sequenceOk) {
      return stopAt('corrupt', {
        badOffset: at,
        reason: `frame for position ${frame.position} part ${frame.part}/${frame.parts} is out of sequence (expected position ${expected}${inAppend ? ` part ${pending.length + 1}` : ' part 1'})`,
      });
    }
    let decoded: DecodedRecord;
    try {
      decoded = decodeFrame(buf, frame);
    } catch (error) {
      return stopAt('corrupt', { badOffset: at, reason: (error as Error).message });
    }
    pending.push({ ...decoded, offset: at, end: chunkStart + frame.end, crc: frame.crc });
    parts = frame.parts;
    expected++;
    at = chunkStart + frame.end;
    if (frame.part === frame.parts) {
      const records = pending;
      pending = [];
      appendStart = at;
      last = records[records.length - 1].event.position;
      if (visit(records) === false) return stopAt('stopped');
    }
  }
  if (pending.length === 0) return stopAt('end');
  return stopAt('incomplete', { badOffset: appendStart, reason: `append of ${parts} events has only ${pending.length}` });
}

function classifyDamage(
  files: SegmentFiles,
  first: number,
  at: number,
  size: number,
  reason: string,
  stopAt: (status: ScanEnd['status'], extra?: Partial<ScanEnd>) => ScanEnd,
): ScanEnd {
  const rest = files.read(first, at, size - at);
  const later = findValidFrameAfter(rest, 1);
  if (later >= 0) {
    return stopAt('corrupt', { badOffset: at, reason: `${reason}, and a valid frame follows at offset ${at + later}` });
  }
  const again = readFrame(rest, 0);
  if (!again.ok && again.incomplete && again.frameLine && crcMatchesToEnd(rest, 0, rest.length, again.frameLine)) {
    return stopAt('corrupt', { badOffset: at, reason: 'the frame length field is damaged' });
  }
  if (!again.ok && !again.incomplete && !zerosLookUnwritten(rest, at)) {
    // A torn write leaves a frame cut short, or sectors that never landed (zeros): its bytes are a prefix
    // of the frame. A frame all present, with no unwritten-sector zeros, that still fails its check was
    // damaged after it was written (it may have been acknowledged): never repaired away.
    return stopAt('corrupt', { badOffset: at, reason: `${reason}: the bytes are all there, so this is damage, not a torn write` });
  }
  return stopAt('incomplete', { badOffset: at, reason });
}

/** Disks persist whole sectors: the unit an interrupted write can leave unwritten. */
const SECTOR = 512;

/**
 * Whether `tail` (the bytes from file offset `at`, where damage starts, to the end of the file) holds
 * zeros, each run shaped like sectors an interrupted write never persisted: starting at `at` or at a
 * sector boundary, and ending at the end of the file or at a sector boundary. Frames never hold zero
 * bytes, so any other zero (a flipped byte, say) is damage to bytes that were written.
 */
export function zerosLookUnwritten(tail: Buffer, at: number): boolean {
  let any = false;
  for (let i = tail.indexOf(0); i >= 0; ) {
    let j = i + 1;
    while (j < tail.length && tail[j] === 0) j++;
    const startsLikeSector = i === 0 || (at + i) % SECTOR === 0;
    const endsLikeSector = j === tail.length || (at + j) % SECTOR === 0;
    if (!startsLikeSector || !endsLikeSector) return false;
    any = true;
    i = j < tail.length ? tail.indexOf(0, j) : -1;
  }
  return any;
}

/** A CORRUPT error naming the segment and offset. */
export function corruptAt(first: number, offset: number, reason: string): CorruptError {
  const segment = segmentFileName(first);
  return new CorruptError(`${segment}: offset ${offset}: ${reason}`, { details: { segment, offset } });
}

/**
 * Read events of segment `first` in order from the frame at `offset` (position `position`), up to and
 * including `last`, handing each to `visit` until it returns false. Every frame is checked; damage here,
 * inside the indexed part of the log, is CORRUPT. Returns the position of the last event visited.
 */
export function readEvents<R>(
  files: SegmentFiles,
  first: number,
  offset: number,
  position: number,
  last: number,
  decode: FrameDecoder<R>,
  visit: (record: R) => boolean | void,
): { position: number; offset: number } {
  const size = files.size(first);
  let chunkStart = offset;
  let buf: Buffer = Buffer.alloc(0);
  let at = offset;
  let expected = position;
  while (expected <= last && at < size) {
    if (at - chunkStart >= buf.length || buf.length === 0) {
      chunkStart = at;
      buf = files.read(first, at, Math.min(CHUNK, size - at));
    }
    const local = at - chunkStart;
    const read = readFrame(buf, local, buf.length);
    if (!read.ok) {
      if (read.incomplete && chunkStart + buf.length < size) {
        const need = read.frameLine ? read.frameLine.payloadStart - local + read.frameLine.len : CHUNK;
        chunkStart = at;
        buf = files.read(first, at, Math.min(Math.max(CHUNK, need), size - at));
        continue;
      }
      throw corruptAt(first, at, read.reason);
    }
    if (read.frame.position !== expected) {
      throw corruptAt(first, at, `frame holds position ${read.frame.position}, expected ${expected}`);
    }
    let record: R;
    try {
      record = decode(buf, read.frame);
    } catch (error) {
      throw corruptAt(first, at, (error as Error).message);
    }
    at = chunkStart + read.frame.end;
    expected++;
    if (visit(record) === false) break;
  }
  return { position: expected - 1, offset: at };
}

/** Read and check the single frame at `offset` of segment `first`, which must hold `position`. */
export function readEventAt<R>(files: SegmentFiles, first: number, offset: number, position: number, decode: FrameDecoder<R>): R {
  let buf = files.read(first, offset, 4096);
  let read = readFrame(buf, 0, buf.length);
  if (!read.ok && read.incomplete && read.frameLine && buf.length === 4096) {
    buf = files.read(first, offset, read.frameLine.payloadStart + read.frameLine.len);
    read = readFrame(buf, 0, buf.length);
  }
  if (!read.ok) throw corruptAt(first, offset, read.reason);
  if (read.frame.position !== position) throw corruptAt(first, offset, `frame holds position ${read.frame.position}, expected ${position}`);
  try {
    return decode(buf, read.frame);
  } catch (error) {
    throw corruptAt(first, offset, (error as Error).message);
  }
}
