import type { Pool } from 'pg';
import { LockedError } from '../../log/errors';
import { sqlState, wrapPgError } from './pg-errors';
import { checkout, type Queryable } from './sql';

/** The default of `purgeLockTimeoutMs()`. */
export const DEFAULT_PURGE_LOCK_TIMEOUT_MS = 30_000;

/**
 * How long a purge waits for its table locks before giving up with LOCKED (the erasure itself is done;
 * its purge stays pending and is finished at the next open): 30 s, or `OSIS_PURGE_LOCK_TIMEOUT_MS`.
 */
export function purgeLockTimeoutMs(): number {
  const configured = Number(process.env.OSIS_PURGE_LOCK_TIMEOUT_MS);
  return Number.isFinite(configured) && configured > 0 ? Math.round(configured) : DEFAULT_PURGE_LOCK_TIMEOUT_MS;
}

/**
 * `VACUUM FULL` the tables (schema-qualified, quoted), one statement: each is rewritten into a new file
 * with its live rows only, its indexes and TOAST rebuilt, and the old files truncated at commit. This is
 * what removes deleted rows' bytes from PostgreSQL's table files: a plain VACUUM frees dead tuples'
 * space for reuse without promising to erase it, and left index entries (btree, GIN) in place when
 * measured (test/erasure/pg-byte-scan.test.ts).
 *
 * A rewrite copies "recently dead" rows too: rows deleted by a transaction that some snapshot still open
 * in the database might not see as committed. So it first waits until every transaction of the database
 * (and replication slot, and prepared transaction) is younger than a transaction id taken now, after the
 * deletions committed (see `waitForHorizon`). It then takes an ACCESS EXCLUSIVE lock per table while it
 * runs: appends and reads of the store wait meanwhile. Both waits are bounded by `purgeLockTimeoutMs()`
 * (LOCKED past it). VACUUM cannot run in a transaction, so it runs on its own pooled connection.
 */
export async function vacuumFull(pool: Pool, tables: readonly string[], display: string): Promise<void> {
  if (tables.length === 0) return;
  let client;
  try {
    client = await checkout(pool);
  } catch (error) {
    throw wrapPgError(error, 'purge failed', display);
  }
  let broken: Error | undefined;
  const timeoutMs = purgeLockTimeoutMs();
  try {
    await waitForHorizon(client, timeoutMs, display);
    await client.query(`SET lock_timeout = ${timeoutMs}`);
    await client.query(`VACUUM FULL ${tables.join(', ')}`);
    await client.query('RESET lock_timeout');
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    if (error instanceof LockedError) throw error;
    if (sqlState(error) === '55P03') {
      throw new LockedError(
        `the object is erased, but the purge of its derived rows waited more than ${timeoutMs} ms for its table locks at ${display}; it is finished at the next open`,
        error,
      );
    }
    throw wrapPgError(error, 'purge failed', display);
  } finally {
    client.release(broken);
  }
}

/** What may still see rows deleted before transaction `$1` (an xid): backends, replication slots, prepared transactions of this database. */
const OLDER_THAN = `
SELECT 'pid ' || pid || coalesce(' (' || nullif(application_name, '') || ')', '') || ', in a transaction since ' || coalesce(xact_start::text, '?') AS what
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND ((backend_xmin IS NOT NULL AND age(backend_xmin) > age($1::text::xid)) OR (backend_xid IS NOT NULL AND age(backend_xid) > age($1::text::xid)))
UNION ALL
SELECT 'replication slot ' || slot_name FROM pg_replication_slots
 WHERE (database IS NULL OR database = current_database()) AND xmin IS NOT NULL AND age(xmin) > age($1::text::xid)
UNION ALL
SELECT 'prepared transaction ' || gid FROM pg_prepared_xacts WHERE database = current_database() AND age(transaction) > age($1::text::xid)
LIMIT 1`;

/**
 * Wait until nothing in the database can still see rows deleted by transactions that committed before
 * now: take a new transaction id, then poll (backing off up to 250 ms) until no backend's snapshot or
 * transaction, replication slot or prepared transaction is older than it. LOCKED after `timeoutMs`,
 * naming what held it back.
 */
async function waitForHorizon(client: Queryable, timeoutMs: number, display: string): Promise<void> {
  const now = await client.query<{ xid: string }>('SELECT (txid_current() % 4294967296)::text AS xid');
  const xid = now.rows[0].xid;
  const deadline = Date.now() + timeoutMs;
  for (let pause = 10; ; pause = Math.min(250, pause * 2)) {
    const older = await client.query<{ what: string }>(OLDER_THAN, [xid]);
    if (older.rows.length === 0) return;
    if (Date.now() >= deadline) {
      throw new LockedError(
        `the object is erased, but its purge waited more than ${timeoutMs} ms for a transaction older than the erasure to end ` +
          `(${older.rows[0].what}) at ${display}: until then PostgreSQL must keep the deleted rows; the purge is finished at the next open`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
