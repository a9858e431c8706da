import { Pool, types, type PoolClient, type PoolConfig } from 'pg';
import { LockedError } from '../../log/errors';
import type { Durability } from '../../log/event-log';
import { isConnectionLoss, isRetryable, wrapPgError } from './pg-errors';
import type { PostgresTarget } from './url';
import { checkout } from './sql';

/** Options of the backend's connection pool. */
export interface PoolOptions {
  /** Most connections this log object opens (default 8): one for appends at a time, the rest for reads. */
  poolSize?: number;
  /** How long to wait for a connection, in ms (default 10 s; a `connect_timeout` URL parameter wins). */
  connectTimeoutMs?: number;
}

/** int8 (bigint: positions, `count(*)`) as a JS number: positions stay far below 2^53. */
const INT8_OID = 20;
const parseInt8 = (text: string) => Number(text);
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : types.getTypeParser(oid, format ?? 'text')) as typeof types.getTypeParser,
};

/**
 * The `pg` pool of one log object, with the backend's settings: bigints as numbers, TCP keep-alive (a
 * vanished server is noticed), a bounded connect wait, idle connections that do not keep the process
 * alive, and idle-client errors (a server restart) caught so they cannot crash the process: the pool
 * drops such clients and the next query reconnects.
 */
export function createPool(target: PostgresTarget, options: PoolOptions = {}): Pool {
  const config: PoolConfig = {
    connectionString: target.connectionString,
    max: options.poolSize ?? 8,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    allowExitOnIdle: true,
    types: typeParsers,
  };
  if (!/[?&]connect_timeout=/.test(target.connectionString)) config.connectionTimeoutMillis = options.connectTimeoutMs ?? 10_000;
  const pool = new Pool(config);
  pool.on('error', () => {
    // An idle client lost its connection; the pool has removed it. The next query reconnects or reports UNAVAILABLE.
  });
  return pool;
}

/** `BEGIN` of every write transaction: READ COMMITTED (each statement sees what committed before it) and the durability. */
export function beginStatement(durability: Durability): string {
  return `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO ${durability === 'full' ? 'on' : 'off'}`;
}

/** What a transaction needs to know besides its work. */
export interface TransactionContext {
  pool: Pool;
  durability: Durability;
  /** The store URL without password, for messages. */
  display: string;
  /** Give up retrying deadlocks and serialization failures after this long, in ms. */
  retryForMs: number;
}

/**
 * Run `work` in one transaction on a pooled connection and commit it. A deadlock or serialization
 * failure (PostgreSQL rolled everything back) runs `work` again from the start, after a short random
 * sleep, for up to `retryForMs`; then LOCKED. A lost connection is UNAVAILABLE: the transaction was
 * rolled back by the server, or, if the COMMIT itself was cut off, may have committed as a whole (use
 * idempotency keys to retry safely). Other errors roll back and are thrown, wrapped once.
 */
export async function inTransaction<T>(ctx: TransactionContext, what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const deadline = Date.now() + ctx.retryForMs;
  for (let attempt = 0; ; attempt++) {
    let client: PoolClient;
    try {
      client = await checkout(ctx.pool);
    } catch (error) {
      throw wrapPgError(error, what, ctx.display);
    }
    try {
      await client.query(beginStatement(ctx.durability));
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      const rolledBack = !isConnectionLoss(error) && (await client.query('ROLLBACK').then(() => true, () => false));
      client.release(rolledBack ? undefined : toError(error)); // a connection in doubt is dropped, not reused
      if (isRetryable(error) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 + attempt * 4, 50)));
        continue;
      }
      if (isRetryable(error)) {
        const why = `PostgreSQL kept aborting the transaction (deadlock or serialization failure) for ${ctx.retryForMs} ms`;
        throw new LockedError(`${what}: ${why} at ${ctx.display}`, error);
      }
      throw wrapPgError(error, what, ctx.display);
    }
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
