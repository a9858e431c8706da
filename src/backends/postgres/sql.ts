import type { ClientBase } from 'pg';

/** Anything that runs a query: a pool, or a client inside a transaction. Shared by the log and the projection store. */
export type Queryable = Pick<ClientBase, 'query'>;

/** Quote one SQL identifier (a schema or table name): never interpolate a name any other way. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63 || name.includes('\0')) throw new Error(`invalid PostgreSQL identifier ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}
