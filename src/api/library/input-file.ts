import * as fs from 'node:fs';
import { InvalidInputError } from '../../log/errors';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Read a text file named by a user (seed, schema) without trusting its size: more than `maxBytes` is
 * refused before it is read whole, and so is anything that is not a regular file or a pipe (a device
 * such as /dev/zero never ends). The message names the file.
 */
/** Sees each chunk as it is read and throws to stop reading (a streaming bounds check). */
export type ChunkInspector = (chunk: Buffer) => void;

export function readInputFile(file: string, what: string, maxBytes: number, inspect?: ChunkInspector): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new InvalidInputError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    return readBounded(fd, `${what} ${file}`, maxBytes, false, inspect);
  } finally {
    fs.closeSync(fd);
  }
}

/** Read standard input (a pipe, a file or a terminal) up to `maxBytes`; more is refused. */
export function readInputStdin(what: string, maxBytes: number): string {
  return readBounded(0, what, maxBytes, true);
}

function readBounded(fd: number, what: string, maxBytes: number, anyStream: boolean, inspect?: ChunkInspector): string {
  try {
    const stat = fs.fstatSync(fd);
    if (!anyStream && !stat.isFile() && !stat.isFIFO()) throw new InvalidInputError(`${what} is not a regular file`);
    if (stat.isFile() && stat.size > maxBytes) throw new InvalidInputError(`${what} is larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      let n: number;
      try {
        n = fs.readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((error as NodeJS.ErrnoException).code === 'EOF') break;
        throw error;
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      inspect?.(chunk.subarray(0, n));
      if (total > maxBytes) throw new InvalidInputError(`${what} is larger than ${maxBytes} bytes`);
    }
    try {
      return UTF8.decode(Buffer.concat(chunks, total));
    } catch {
      throw new InvalidInputError(`${what} is not valid UTF-8`);
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(`cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}
