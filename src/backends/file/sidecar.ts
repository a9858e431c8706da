import Database from 'better-sqlite3';
import * as path from 'node:path';
import { retryOpening } from '../../log/busy-retry';
import { CorruptError, LockedError, NoSpaceError, OsisError, UnavailableError, isNoSpace } from '../../log/errors';

/** Name of the sidecar database inside a log directory: log index and projections, all rebuildable. */
export const SIDECAR_FILE = 'projections.db';

/**
 * Open the sidecar database of a log directory. It only holds what the log can rebuild, so it runs with
 * `synchronous = NORMAL` whatever the log's durability: after a power loss it may be behind, never wrong.
 * While the store opens it keeps SQLite's busy wait short and set-up steps go through `retryOpening`
 * (asynchronous waits); `useSteadyBusyTimeout` then sets the wait its synchronous index transactions rely on.
 */
export async function openSidecar(dir: string): Promise<Database.Database> {
  const file = path.join(dir, SIDECAR_FILE);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw wrapSidecarError(error, `cannot open ${file}`);
  }
  try {
    db.pragma(`busy_timeout = ${OPENING_BUSY_TIMEOUT_MS}`);
    await retryOpening(file, () => db.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    throw wrapSidecarError(error, `cannot open ${file}`);
  }
}

/** SQLite's own busy wait while opening (short: `retryOpening` waits between tries without blocking). */
const OPENING_BUSY_TIMEOUT_MS = 5;

/** After opening: the busy wait of the sidecar's synchronous index transactions. */
export function useSteadyBusyTimeout(db: Database.Database, busyTimeoutMs = 10_000): void {
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
}

/** Translate a driver error on the sidecar into the store's typed errors, once, keeping `cause`. */
export function wrapSidecarError(error: unknown, context: string): unknown {
  if (error instanceof OsisError) return error;
  if (isNoSpace(error)) return new NoSpaceError(`${context}: the disk is full (${(error as Error).message}); free space and retry`, error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new LockedError(`${context}: sidecar database is busy (${code})`, error);
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_READONLY')) {
      return new UnavailableError(`${context}: ${(error as Error).message} (${code})`, error);
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return new CorruptError(`${context}: the sidecar ${SIDECAR_FILE} is damaged (${code}); delete it and it is rebuilt from the log`, { cause: error });
    }
  }
  return error;
}
