import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptError, LockedError, NoSpaceError, OsisError, isNoSpace } from '../../log/errors';
import type { Durability } from '../../log/event-log';
import { isLockBusy } from '../../log/busy-retry';

/**
 * SQLite's own busy handler sleeps in C, blocking the event loop with back-offs of up to 100 ms, so
 * after opening only a short one is kept and writers retry asynchronously (see `retryWhileBusy`).
 */
export const SHORT_BUSY_TIMEOUT_MS = 5;

/**
 * Open a better-sqlite3 database with the store's pragmas: WAL and the chosen durability. The busy
 * timeout is long (`busyTimeoutMs`) so that set-up statements wait for other openers; call
 * `useShortBusyTimeout` once set-up is done.
 */
export function openSqlite(file: string, durability: Durability, busyTimeoutMs = 30_000): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  try {
    const db = new Database(file);
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    if (file !== ':memory:') retryOpeningWhileBusy(() => db.pragma('journal_mode = WAL'), busyTimeoutMs);
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    return db;
  } catch (error) {
    throw wrapSqliteError(error, `cannot open ${file}`);
  }
}

/**
 * Run a set-up step of opening, retrying while SQLite answers SQLITE_BUSY at once (it does so, without
 * calling the busy handler, when several processes open a new database together and waiting could
 * deadlock). Opening is synchronous, so this sleeps synchronously between tries.
 */
export function retryOpeningWhileBusy<T>(step: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; ; tries++) {
    try {
      return step();
    } catch (error) {
      if (!isLockBusy(error) || Date.now() >= deadline) throw error;
    }
    Atomics.wait(SLEEPER, 0, 0, 1 + Math.random() * Math.min(2 + tries, 20));
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Switch to the short busy timeout for steady-state work. */
export function useShortBusyTimeout(db: Database.Database): void {
  db.pragma(`busy_timeout = ${SHORT_BUSY_TIMEOUT_MS}`);
}

/** Translate a driver error into the store's typed errors, once, keeping `cause`. */
export function wrapSqliteError(error: unknown, context: string): unknown {
  if (error instanceof OsisError) return error;
  if (isNoSpace(error)) return new NoSpaceError(`${context}: the disk is full (${(error as Error).message}); free space and retry`, error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new LockedError(`${context}: database is busy (${code})`, error);
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return new CorruptError(`${context}: ${(error as Error).message} (${code})`, { cause: error });
    }
  }
  return error;
}
