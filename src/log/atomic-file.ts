import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Write a small file so that readers see the old content or the new, never a torn one, and it survives
 * power loss: temp file, fsync, rename, fsync of the directory. A failed rename removes the temp file.
 */
export function writeFileAtomically(file: string, content: string): void {
  const temp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fd = fs.openSync(temp, 'w', 0o644);
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
