import type { UniqueSpec } from '../../log/event-log';
import { io } from '../../log/file-io';

/** A stable text for a unique spec (types and fields sorted, empty ones dropped). */
export function uniqueFingerprint(spec: UniqueSpec): string {
  return JSON.stringify(
    Object.keys(spec)
      .sort()
      .filter((t) => spec[t].length > 0)
      .map((t) => [t, [...spec[t]].sort()]),
  );
}

/** Write all of `buffer` at `position`, however many calls it takes. */
export function writeAll(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length) done += io.writeSync(fd, buffer, done, buffer.length - done, position + done);
}

/** fdatasync on the thread pool. */
export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => io.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
