import type { ClientBase, Pool, PoolClient } from 'pg';

/** Anything that runs a query: a pool, or a client inside a transaction. Shared by the log and the projection store. */
export type Queryable = Pick<ClientBase, 'query'>;

/** Quote one SQL identifier (a schema or table name): never interpolate a name any other way. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63 || name.includes('\0')) throw new Error(`invalid PostgreSQL identifier ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Check a client out of `pool` so that losing its connection while it is checked out (a backend killed
 * with `pg_terminate_backend`, a server shutting down) makes its queries reject instead of crashing the
 * process: `pg` emits 'error' on the client, and pg-pool listens only while the client is idle. The
 * listener goes when the client is released.
 */
export async function checkout(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  const ignore = (): void => undefined;
  client.on('error', ignore);
  const release = client.release.bind(client);
  client.release = ((error?: Error | boolean) => {
    client.removeListener('error', ignore);
    return release(error);
  }) as PoolClient['release'];
  return client;
}
