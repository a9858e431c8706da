import type Database from 'better-sqlite3';
import { ConnectionBusy, isLockBusy, retryWhileBusy } from '../../log/busy-retry';
import { NoSpaceError, isNoSpace, OsisError } from '../../log/errors';

/** How long a projection writer waits for the write lock before giving up with the busy error. */
export const LOCK_WAIT_MS = 30_000;

const statements = new WeakMap<Database.Database, { begin: Database.Statement; commit: Database.Statement; rollback: Database.Statement }>();

function control(db: Database.Database) {
  let s = statements.get(db);
  if (!s) {
    s = { begin: db.prepare('BEGIN IMMEDIATE'), commit: db.prepare('COMMIT'), rollback: db.prepare('ROLLBACK') };
    statements.set(db, s);
  }
  return s;
}

/** Take the write lock (`BEGIN IMMEDIATE`), waiting asynchronously while another writer holds it. */
export async function beginImmediate(db: Database.Database): Promise<void> {
  await retryWhileBusy(
    () => {
      if (db.inTransaction) throw new ConnectionBusy('connection is inside another transaction');
      control(db).begin.run();
    },
    isLockBusy,
    LOCK_WAIT_MS,
  );
}

/** Run `fn` in its own write transaction: commit when it returns, roll back when it throws. */
export async function writeTransaction<T>(db: Database.Database, fn: () => T): Promise<T> {
  await beginImmediate(db);
  try {
    const result = fn();
    control(db).commit.run();
    return result;
  } catch (error) {
    if (db.inTransaction) control(db).rollback.run();
    if (!(error instanceof OsisError) && isNoSpace(error)) throw new NoSpaceError(`cannot write the projections: the disk is full (${(error as Error).message}); free space and retry`, error);
    throw error;
  }
}
