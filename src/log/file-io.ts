import * as fs from 'node:fs';
import { makeDirs } from './make-dirs';

/**
 * The file operations of the file backend, in one small replaceable object, so that tests can fail the
 * Nth call (EIO, ENOSPC, a short write) and check the store's promises under a failing disk.
 * Production code always runs on node:fs through `io`.
 */
export interface FileIo {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): number;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): fs.Stats;
  statSync(path: string): fs.Stats | undefined;
  existsSync(path: string): boolean;
  readdirSync(path: string): string[];
  renameSync(from: string, to: string): void;
  mkdirSync(path: string): void;
  rmSync(path: string): void;
}

/** node:fs, as the store uses it. */
export const nodeIo: FileIo = {
  openSync: (p, flags) => fs.openSync(p, flags),
  closeSync: (fd) => fs.closeSync(fd),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fdatasync: (fd, callback) => fs.fdatasync(fd, callback),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  statSync: (p) => fs.statSync(p, { throwIfNoEntry: false }),
  existsSync: (p) => fs.existsSync(p),
  readdirSync: (p) => fs.readdirSync(p),
  renameSync: (from, to) => fs.renameSync(from, to),
  mkdirSync: (p) => makeDirs(p, 'the log directory'),
  rmSync: (p) => fs.rmSync(p, { force: true }),
};

/** The file operations in force. */
export let io: FileIo = nodeIo;

/** Replace the file operations (tests); returns a function that restores the previous ones. */
export function setFileIo(next: FileIo): () => void {
  const previous = io;
  io = next;
  return () => {
    io = previous;
  };
}
