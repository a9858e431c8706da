import Database from 'better-sqlite3';
import * as path from 'node:path';
import { CorruptError, LockedError, NoSpaceError, OsisError, UnavailableError, isNoSpace } from '../../log/errors';
import type { Durability } from '../../log/event-log';
import { retryOpening } from '../../log/busy-retry';
import { makeDirs } from '../../log/make-dirs';

/**
 * SQLite's own busy handler sleeps in C, blocking the event loop (and signal handlers) with back-offs of
 * up to 100 ms, so only a short one is kept and openers and writers retry asynchronously
 * (see `retryOpening`, `retryWhileBusy`).
 */
export const SHORT_BUSY_TIMEOUT_MS = 5;

/**
 * Open a better-sqlite3 database with the store's pragmas: WAL and the chosen durability. A path that
 * cannot be opened fails at once with UNAVAILABLE; switching to WAL is retried (asynchronously) while
 * other processes open the same new database, for up to the open timeout (see `retryOpening`).
 */
export async function openSqlite(file: string, durability: Durability): Promise<Database.Database> {
  if (file !== ':memory:') makeDirs(path.dirname(path.resolve(file)), `the database ${file}`);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw wrapSqliteError(error, `cannot open ${file}`);
  }
  try {
    useShortBusyTimeout(db);
    if (file !== ':memory:') await retryOpening(file, () => db.pragma('journal_mode = WAL'));
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    return db;
  } catch (error) {
    db.close();
    throw wrapSqliteError(error, `cannot open ${file}`);
  }
}

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
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_AUTH') {
      return new UnavailableError(`${context}: ${(error as Error).message} (${code})`, error);
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return new CorruptError(`${context}: ${(error as Error).message} (${code})`, { cause: error });
    }
  }
  return error;
}
