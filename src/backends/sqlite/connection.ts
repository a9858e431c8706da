import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptError, LockedError, OsisError } from '../../log/errors';
import type { Durability } from '../../log/event-log';

/** Open a better-sqlite3 database with the store's pragmas: WAL, busy timeout, chosen durability. */
export function openSqlite(file: string, durability: Durability, busyTimeoutMs = 10_000): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  try {
    const db = new Database(file);
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    return db;
  } catch (error) {
    throw wrapSqliteError(error, `cannot open ${file}`);
  }
}

/** Translate a driver error into the store's typed errors, once, keeping `cause`. */
export function wrapSqliteError(error: unknown, context: string): unknown {
  if (error instanceof OsisError) return error;
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
