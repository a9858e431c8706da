import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { LockedError } from '../../log/errors';
import { writeTransaction } from './transactions';

/** A rebuilder that has not shown life for this long is taken for dead, and its lease can be taken over. */
export const LEASE_EXPIRY_MS = 60_000;
/** Longest wait for another process's rebuild to finish. */
const WAIT_LIMIT_MS = 10 * 60_000;

const LEASE_TABLE = `CREATE TABLE IF NOT EXISTS projection_rebuild (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  owner     TEXT    NOT NULL,
  heartbeat INTEGER NOT NULL
)`;

/** The lease a rebuild holds: `beat()` shows it is alive (throttled), `release` is part of the swap transaction. */
export interface RebuildLease {
  /** Prove the rebuild is alive (at most one write a second). */
  beat(): Promise<void>;
  /** Inside the caller's write transaction: give the lease back. */
  releaseInTransaction(): void;
}

/**
 * Run a blue-green rebuild while no other process rebuilds the same projection database. Rebuilds
 * share the shadow tables, so two at once would drop each other's; the lease (one row, taken in a write
 * transaction, kept alive by heartbeats, taken over when its holder stopped beating) makes them take
 * turns. `stillNeeded` is asked once the lease is held: a rebuild another process just finished may
 * have made this one unnecessary (several replicas opening one store that needs a rebuild).
 */
export async function withRebuildLease<T>(
  db: Database.Database,
  stillNeeded: () => boolean | Promise<boolean>,
  rebuild: (lease: RebuildLease) => Promise<T>,
): Promise<T | undefined> {
  const owner = randomUUID();
  await acquire(db, owner);
  let lastBeat = Date.now();
  const lease: RebuildLease = {
    async beat() {
      if (Date.now() - lastBeat < 1000) return;
      lastBeat = Date.now();
      await writeTransaction(db, () => db.prepare('UPDATE projection_rebuild SET heartbeat = ? WHERE owner = ?').run(lastBeat, owner));
    },
    releaseInTransaction() {
      db.prepare('DELETE FROM projection_rebuild WHERE owner = ?').run(owner);
    },
  };
  try {
    if (!(await stillNeeded())) return undefined;
    return await rebuild(lease);
  } finally {
    if (db.open) await writeTransaction(db, () => lease.releaseInTransaction()).catch(() => undefined);
  }
}

async function acquire(db: Database.Database, owner: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (let wait = 5; ; wait = Math.min(wait * 2, 250)) {
    const taken = await writeTransaction(db, () => {
      db.exec(LEASE_TABLE);
      const held = db.prepare('SELECT owner, heartbeat FROM projection_rebuild WHERE id = 1').get() as { owner: string; heartbeat: number } | undefined;
      if (held && Date.now() - held.heartbeat < LEASE_EXPIRY_MS) return false;
      db.prepare('INSERT OR REPLACE INTO projection_rebuild (id, owner, heartbeat) VALUES (1, ?, ?)').run(owner, Date.now());
      return true;
    });
    if (taken) return;
    if (Date.now() > deadline) throw new LockedError('another process has been rebuilding the projections for over 10 minutes');
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
