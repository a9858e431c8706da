import { InvalidInputError } from '../../log/errors';

/** What a `postgres://` store URL says, split into what `pg` connects with and what the store uses. */
export interface PostgresTarget {
  /** The URL without the store's own parameters (`schema`): libpq parameters only, for `pg`. */
  connectionString: string;
  /** The PostgreSQL schema holding the store's tables (`?schema=NAME`, default `public`). */
  schema: string;
  /** The URL as it may be shown in messages and logs: any password replaced by `***`. */
  display: string;
}

/** The schema a store uses when its URL names none. */
export const DEFAULT_SCHEMA = 'public';

/**
 * Schema names the store accepts: lower-case letters, digits and `_`, starting with a letter or `_`, at
 * most 54 characters (so that the LISTEN channel `osis_log_<schema>` fits PostgreSQL's 63-byte names),
 * and not `pg_…` (reserved by PostgreSQL). Identifiers are still quoted wherever they are used.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,53}$/;

/**
 * Parse `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?schema=NAME&…]` (or `postgresql://`). Every query
 * parameter but `schema` is passed to `pg` as a libpq parameter (`sslmode`, `application_name`,
 * `connect_timeout`, `options`, `host=/socket/dir`, …). Throws INVALID_INPUT naming the URL without
 * its password.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  const display = redactUrl(url);
  const usage = 'use postgres://USER@HOST:PORT/DB[?schema=NAME]';
  const parts = /^(postgres(?:ql)?:\/\/)([^/?#]*)(\/[^/?#]*)?(\?[^#]*)?$/.exec(url);
  if (!parts) throw new InvalidInputError(`not a PostgreSQL URL: ${display} (${usage})`);
  const [, scheme, authority, path = '', query = ''] = parts;
  // libpq's socket forms (postgres:///db?host=/run/postgresql, postgres://user@/db) leave the host empty,
  // which WHATWG URL refuses: check the rest of the URL with a stand-in host.
  const hostless = authority === '' || authority.endsWith('@');
  try {
    new URL(`${scheme}${authority}${hostless ? 'localhost' : ''}${path}${query}`);
  } catch {
    throw new InvalidInputError(`malformed PostgreSQL URL ${display}: ${usage}`);
  }
  const params = new URLSearchParams(query.slice(1));
  const schemas = params.getAll('schema');
  if (schemas.length > 1) throw new InvalidInputError(`${display}: give ?schema= at most once`);
  const schema = schemas[0] ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
    throw new InvalidInputError(
      `${display}: schema ${JSON.stringify(schema)} is not a valid store schema name ` +
        '(lower-case letters, digits and _, starting with a letter or _, at most 54 characters, not pg_…)',
    );
  }
  params.delete('schema');
  const rest = params.toString();
  return { connectionString: `${scheme}${authority}${path}${rest ? `?${rest}` : ''}`, schema, display };
}

/**
 * The URL with any password (in the user part, or a `password=` parameter) replaced by `***`: what every
 * message and error of the backend shows. Works on malformed URLs too (best effort, by pattern).
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@?#:]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}
