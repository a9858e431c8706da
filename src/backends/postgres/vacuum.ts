import type { Pool } from 'pg';
import { LockedError } from '../../log/errors';
import { sqlState, wrapPgError } from './pg-errors';
import { checkout } from './sql';

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
 * what removes deleted rows' bytes from PostgreSQL's table files: a plain VACUUM marks dead tuples free
 * but leaves their bytes in the page until new rows happen to overwrite them, and leaves index entries
 * (btree, GIN) in place (measured: see test/erasure/pg-byte-scan.test.ts). It takes an ACCESS EXCLUSIVE
 * lock per table while it runs: appends and reads of the store wait meanwhile. VACUUM cannot run in a
 * transaction, so it runs on its own pooled connection, with a lock timeout (LOCKED past it).
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
    await client.query(`SET lock_timeout = ${timeoutMs}`);
    await client.query(`VACUUM FULL ${tables.join(', ')}`);
    await client.query('RESET lock_timeout');
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
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
