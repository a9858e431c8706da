import {
  CorruptError,
  LockedError,
  NoSpaceError,
  OsisError,
  UnavailableError,
  VersionConflictError,
} from '../../log/errors';

/** SQLSTATEs of a transaction PostgreSQL aborted to resolve a conflict: the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

/** Node socket errors that mean the server cannot be reached or went away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOENT']);

/** SQLSTATE of the error, if `error` came from the server. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True for serialization failures and deadlocks: PostgreSQL rolled the transaction back; run it again. */
export function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE.has(state);
}

/**
 * True when the error says the server could not be reached or the connection broke: refused, reset,
 * timed out, terminated by the server (admin shutdown, crash, `pg_terminate_backend`), too many
 * connections. The outcome of a COMMIT that failed this way is unknown; nothing else was half-done.
 */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || state.startsWith('57P') || state === '53300';
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|not queryable/i.test(message);
}

/**
 * Translate a `pg` error into the store's typed errors, once, keeping `cause`. `context` says what was
 * being done; `display` is the store URL without its password. Errors that are already typed pass through.
 */
export function wrapPgError(error: unknown, context: string, display: string): unknown {
  if (error instanceof OsisError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlState(error);
  if (state === '28P01' || state === '28000') {
    return new UnavailableError(`${context}: PostgreSQL refused the credentials for ${display} (${message})`, error);
  }
  if (state === '3D000') return new UnavailableError(`${context}: ${message} at ${display}; create it first (createdb)`, error);
  if (state === '42501') return new UnavailableError(`${context}: permission denied at ${display} (${message})`, error);
  if (isConnectionLoss(error)) {
    return new UnavailableError(`${context}: PostgreSQL at ${display} is not reachable or the connection broke (${message})`, error);
  }
  if (state !== undefined && (RETRYABLE.has(state) || state === '55P03' || state === '57014')) {
    return new LockedError(`${context}: PostgreSQL kept aborting or timing out the transaction at ${display} (${message})`, error);
  }
  if (state === '53100') return new NoSpaceError(`${context}: PostgreSQL at ${display} is out of disk space (${message}); free space and retry`, error);
  if (state === 'XX001' || state === 'XX002') return new CorruptError(`${context}: PostgreSQL reports damaged data at ${display} (${message})`, { cause: error });
  return error;
}

/**
 * A 23505 (unique_violation) on `events (type, sid, version)` as VERSION_CONFLICT, as the other backends
 * report a lost race on an object: `events` are the rows the failed statement inserted, and the one
 * the server's detail names is reported. Only a writer that bypasses the stream locks can cause it.
 */
export function streamConflictOf(error: unknown, events: ReadonlyArray<{ type: string; sid: string; version: number }>): VersionConflictError | undefined {
  if (sqlState(error) !== '23505') return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  if (constraint !== 'events_by_stream') return undefined;
  const detail = String((error as { detail?: unknown }).detail ?? '');
  const event = events.find((e) => detail.includes(`=(${e.type}, ${e.sid}, ${e.version})`)) ?? events[0];
  return new VersionConflictError(event.type, event.sid, event.version - 1, event.version);
}
