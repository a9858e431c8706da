import { io } from '../../log/file-io';
import * as path from 'node:path';
import { CorruptError, NoSpaceError, OsisError, isNoSpace } from '../../log/errors';
import { parseSegmentHeader, type SegmentHeader } from '../../log/otoml-record';

/** Segment files end with this suffix and are named by their first position, zero-padded to 20 digits. */
export const SEGMENT_SUFFIX = '.otoml';
const SEGMENT_NAME = /^(\d{20})\.otoml$/;

export function segmentFileName(first: number): string {
  return `${String(first).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const first = Number(m[1]);
  return Number.isSafeInteger(first) && first >= 1 ? first : undefined;
}

/**
 * The segment files of one log directory: listing, cached read descriptors, positioned reads, headers,
 * and crash-safe creation (temp file + fsync + rename + fsync of the directory).
 */
export class SegmentFiles {
  private readonly fds = new Map<number, number>();
  private readonly headers = new Map<number, { header: SegmentHeader; length: number }>();

  constructor(readonly dir: string) {}

  /** First positions of the segments present, ascending. */
  list(): number[] {
    const firsts: number[] = [];
    for (const name of io.readdirSync(this.dir)) {
      const first = parseSegmentFileName(name);
      if (first !== undefined) firsts.push(first);
    }
    return firsts.sort((a, b) => a - b);
  }

  path(first: number): string {
    return path.join(this.dir, segmentFileName(first));
  }

  /** Whether the segment starting at `first` exists (no exception on absence). */
  exists(first: number): boolean {
    return io.statSync(this.path(first)) !== undefined;
  }

  /** A read descriptor for the segment, opened once. */
  fd(first: number): number {
    let fd = this.fds.get(first);
    if (fd === undefined) {
      try {
        fd = io.openSync(this.path(first), 'r');
      } catch (error) {
        throw fsError(error, `cannot open segment ${segmentFileName(first)}`);
      }
      this.fds.set(first, fd);
    }
    return fd;
  }

  /** Current size of the segment in bytes. */
  size(first: number): number {
    return io.fstatSync(this.fd(first)).size;
  }

  /** Read `length` bytes at `offset` (fewer at the end of the file). */
  read(first: number, offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    const fd = this.fd(first);
    while (done < length) {
      const n = io.readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  /** The segment's header (checked against its name), read once. */
  header(first: number): { header: SegmentHeader; length: number } {
    let parsed = this.headers.get(first);
    if (!parsed) {
      const where = segmentFileName(first);
      parsed = parseSegmentHeader(this.read(first, 0, 200), where);
      if (parsed.header.first !== first) {
        throw new CorruptError(`${where}: offset 0: header says first position ${parsed.header.first}`, { details: { segment: where, offset: 0 } });
      }
      this.headers.set(first, parsed);
    }
    return parsed;
  }

  /**
   * Create a segment holding just `header`: written to a temp file, fsynced, renamed into place, and the
   * directory fsynced, so the segment either exists whole or not at all.
   */
  create(first: number, header: Buffer): void {
    const final = this.path(first);
    const temp = path.join(this.dir, `.${segmentFileName(first)}.tmp`);
    try {
      const fd = io.openSync(temp, 'w');
      try {
        io.writeSync(fd, header, 0, header.length, 0);
        io.fsyncSync(fd);
      } finally {
        io.closeSync(fd);
      }
      io.renameSync(temp, final);
      this.syncDir();
    } catch (error) {
      io.rmSync(temp);
      throw fsError(error, `cannot create segment ${segmentFileName(first)}`);
    }
  }

  /** fsync the directory, making renames and new files durable. */
  syncDir(): void {
    const fd = io.openSync(this.dir, 'r');
    try {
      io.fsyncSync(fd);
    } finally {
      io.closeSync(fd);
    }
  }

  /** Forget cached state of a segment (after it was truncated or replaced). */
  forget(first: number): void {
    const fd = this.fds.get(first);
    if (fd !== undefined) io.closeSync(fd);
    this.fds.delete(first);
    this.headers.delete(first);
  }

  closeAll(): void {
    for (const fd of this.fds.values()) io.closeSync(fd);
    this.fds.clear();
    this.headers.clear();
  }
}

/** Wrap an fs error once, keeping it as `cause`. Typed store errors pass through. */
export function fsError(error: unknown, context: string): unknown {
  if (error instanceof OsisError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (isNoSpace(error)) return new NoSpaceError(`${context}: the disk is full (${code}); free space and retry`, error);
  const wrapped = new Error(`${context}: ${code ?? (error as Error)?.message ?? String(error)}`, { cause: error });
  return wrapped;
}
