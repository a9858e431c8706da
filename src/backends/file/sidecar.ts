import Database from 'better-sqlite3';
import * as path from 'node:path';
import { CorruptError, LockedError, NoSpaceError, OsisError, isNoSpace } from '../../log/errors';

/** Name of the sidecar database inside a log directory: log index and projections, all rebuildable. */
export const SIDECAR_FILE = 'projections.db';

/**
 * Open the sidecar database of a log directory. It only holds what the log can rebuild, so it runs with
 * `synchronous = NORMAL` whatever the log's durability: after a power loss it may be behind, never wrong.
 */
export function openSidecar(dir: string, busyTimeoutMs = 10_000): Database.Database {
  const file = path.join(dir, SIDECAR_FILE);
  try {
    const db = new Database(file);
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    throw wrapSidecarError(error, `cannot open ${file}`);
  }
}

/** Translate a driver error on the sidecar into the store's typed errors, once, keeping `cause`. */
export function wrapSidecarError(error: unknown, context: string): unknown {
  if (error instanceof OsisError) return error;
  if (isNoSpace(error)) return new NoSpaceError(`${context}: the disk is full (${(error as Error).message}); free space and retry`, error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new LockedError(`${context}: sidecar database is busy (${code})`, error);
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return new CorruptError(`${context}: the sidecar ${SIDECAR_FILE} is damaged (${code}); delete it and it is rebuilt from the log`, { cause: error });
    }
  }
  return error;
}
